package com.alpype;

/**
 * TEST DOUBLE of ALPypeRL 1.x's library, which every 1.x export carries as {@code lib/model0.jar}:
 * only its marker class, so that alpyperl recognises the jar and runs the compatibility jar in its
 * place. A model that ran against this jar would fail at once (none of 1.x's members exist).
 */
public final class ALPypeRLConnector {
    private ALPypeRLConnector() {
    }
}
