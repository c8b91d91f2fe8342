package com.alpype;

/**
 * How an ALPypeRL 1.x model is meant to run. Under alpyperl (training from Python, or alpyperl's
 * launcher) alpyperl chooses the actions whatever the mode. Anywhere else (AnyLogic, the exported
 * application), EVALUATE answers {@code requestAction()} from an ONNX policy; TRAIN explains how
 * to train the model from Python.
 */
public enum RLMode {
    TRAIN,
    EVALUATE
}
