#!/bin/bash
# Someone replaced the java line.
./run-model
