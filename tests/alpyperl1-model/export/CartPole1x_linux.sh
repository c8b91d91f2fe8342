#!/bin/bash
#
# Run AnyLogic Experiment
#
DIR_BACKUP_XJAL=$(pwd)
SCRIPT_DIR_XJAL=$(dirname "$0")
cd "$SCRIPT_DIR_XJAL"

java -cp model.jar:lib/model0.jar:lib/com.anylogic.engine.jar -Xmx256m com.acme.cartpole1x.Simulation $*

cd "$DIR_BACKUP_XJAL"
