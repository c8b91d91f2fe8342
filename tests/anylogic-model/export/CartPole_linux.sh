#!/bin/bash
#
# Run AnyLogic Experiment
#
DIR_BACKUP_XJAL=$(pwd)
SCRIPT_DIR_XJAL=$(dirname "$0")
cd "$SCRIPT_DIR_XJAL"

java -cp model.jar:lib/anylogic-lib.jar:resources:lib/com.anylogic.engine.jar:lib/anylogic-lib.jar:resources -Xmx512m -Dcom.acme.cartpole.export=linux com.acme.cartpole.Simulation $*

cd "$DIR_BACKUP_XJAL"
