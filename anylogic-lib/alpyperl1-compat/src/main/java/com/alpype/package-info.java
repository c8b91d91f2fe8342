/**
 * The Java API of ALPypeRL 1.x ({@code com.alpype}), implemented over alpyperl's connector so that
 * models built with ALPypeRL 1.x run unchanged, in-process, under alpyperl 2.
 *
 * <p>An AnyLogic export of a 1.x model carries the 1.x library as {@code lib/model0.jar}. When
 * alpyperl opens such an export it loads this jar in that library's place (inside the export's
 * class loader); {@code alpyperl upgrade-1x} puts it into the export for good, so that AnyLogic's
 * own launch script runs the model with an ONNX policy and no Python. Only what 1.x models use is
 * here: the root agent's contract {@link com.alpype.ALPypeRLClientController}, the embedded agent
 * {@link com.alpype.ALPypeRLConnector} with its parameters, {@link com.alpype.RLAction} with 1.x's
 * boxing rules, and the space builders ({@link com.alpype.ObservationSpace}, {@link
 * com.alpype.ActionSpace}, {@link com.alpype.GymSpaces}).
 *
 * <p>One difference to 1.x's TRAIN mode, on purpose: the action is applied inside
 * {@code requestAction()} (as in 1.x's EVALUATE mode and in alpyperl 2), not after the event that
 * called it has ended. Models that call {@code requestAction()} last in their event, like all of
 * 1.x's examples, behave the same either way.
 */
package com.alpype;
