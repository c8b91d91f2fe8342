@echo off
rem
rem Run AnyLogic Experiment
rem
setlocal
cd /d "%~dp0"

java -cp model.jar;lib\anylogic-lib.jar;resources;lib\com.anylogic.engine.jar;lib\sa\ioutil-8.3.jar;lib/anylogic-lib.jar;resources -Xmx512m -Dfoo=bar com.acme.cartpole.Simulation %*

endlocal
