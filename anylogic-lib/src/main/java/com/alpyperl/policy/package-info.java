/**
 * Evaluates exported policy networks (ONNX files) in plain Java, with no dependencies and no
 * native code, so that a model can answer its own decisions without Python.
 *
 * <p>{@link com.alpyperl.policy.OnnxModel} is the whole API: {@code load} a file, then
 * {@code run} observations through it. Everything else in the package is internal:
 *
 * <ul>
 *   <li>{@code ProtoReader} and {@code OnnxParser} decode the protobuf data, checking every length
 *       and count against the bytes present;</li>
 *   <li>{@code Planner} and {@code Ops} check each node against its operator's definition and
 *       build a {@code Plan} per batch size: shapes are exact, shape arithmetic is folded into
 *       constants, and what is left is a list of {@code Kernels} over preallocated arrays.</li>
 * </ul>
 *
 * <p>Supported: the default ONNX domain, opsets 7 to 24, the operators of
 * {@link com.alpyperl.policy.OnnxModel#supportedOperators()} (fully connected layers, their
 * activations, softmax, layer normalisation and the shape operators exporters emit), float
 * graph inputs whose only dynamic dimension is the first (batch) one. Limits: files up to 1 GiB,
 * tensors up to 2^24 elements, 128 MB of working memory per batch size. Accuracy: results agree
 * with onnxruntime to about 1e-6 (tanh uses a vectorisable rational approximation accurate to
 * 4e-7, like onnxruntime's own).
 */
package com.alpyperl.policy;
