@echo off
rem
rem Run AnyLogic Experiment
rem
setlocal
cd /d "%~dp0"

java -cp model.jar;lib/anylogic-lib.jar;resources;lib/com.anylogic.engine.jar;lib/anylogic-lib.jar;resources -Xmx512m -Dcom.acme.cartpole.export=windows com.acme.cartpole.Simulation %*

endlocal
