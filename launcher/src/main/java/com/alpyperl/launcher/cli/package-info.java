/**
 * The launcher's command line ({@code java -jar launcher.jar run|info}): runs an exported model
 * with an ONNX policy through the same {@link com.alpyperl.launcher.ModelSession} as training,
 * no Python involved.
 */
package com.alpyperl.launcher.cli;
