#!/bin/bash
java -cp model.jar:lib/com.anylogic.engine.jar -Xmx512m $*
