package com.alpyperl.policy;

/**
 * An internal failure while checking or planning a graph; converted into an
 * {@link OnnxFormatException} that names the node it happened in.
 */
final class PlanException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    PlanException(String message) {
        super(message);
    }
}
