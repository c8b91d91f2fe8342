@echo off
rem An export whose folders have spaces in their names
:: quoted words, ^ escapes
cd /d "%~dp0"
@java -cp "model.jar;lib\my library.jar;lib\other library.jar;resources" -Xmx2g "-Dmodel.title=Supply Chain" -Dsymbol=a^&b com.acme.supply.Simulation %*
