package com.alpyperl.policy;

import java.io.IOException;

/**
 * An ONNX file that this evaluator cannot run: malformed or truncated protobuf data, a graph that
 * does not line up, or an operator, attribute or data type that is not supported. The message
 * names the offending part (for example {@code unsupported ONNX operator 'LSTM' in node 'lstm_1'}).
 */
public class OnnxFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what is wrong and where. */
    public OnnxFormatException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the error that caused it. */
    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
