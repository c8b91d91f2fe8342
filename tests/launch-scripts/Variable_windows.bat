@echo off
java -cp %CLASSPATH%;model.jar -Xmx512m com.acme.Simulation %*
