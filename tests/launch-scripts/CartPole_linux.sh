#!/bin/bash
#
# Run AnyLogic Experiment
#
DIR_BACKUP_XJAL=$(pwd)
SCRIPT_DIR_XJAL=$(dirname "$0")
cd "$SCRIPT_DIR_XJAL"
chmod +x chromium/chromium-linux64/chrome

java -cp model.jar:lib/MarkupDescriptors.jar:lib/anylogic-lib.jar:resources:lib/com.anylogic.engine.jar:lib/com.anylogic.engine.nl.jar:lib/com.anylogic.engine.sa.jar:lib/sa/ioutil-8.3.jar:lib/database/querydsl/querydsl-core-4.2.1.jar:lib/anylogic-lib.jar:resources -Xmx512m com.acme.cartpole.Simulation $*

cd "$DIR_BACKUP_XJAL"
