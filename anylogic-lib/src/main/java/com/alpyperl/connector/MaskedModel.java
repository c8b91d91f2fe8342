package com.alpyperl.connector;

/**
 * A single-agent model that says which of its actions are valid now (an action mask), for a
 * Discrete or MultiDiscrete action space. Implementing it is the whole declaration:
 * <pre>{@code
 * public class Plant implements PlainJavaModel, MaskedModel {   // AnyLogic: add MaskedModel to the root's "Implements"
 *     public Space getActionSpace() { return Spaces.discrete(3); }
 *     public boolean[] getActionMask() { return new boolean[] {true, machineIdle, sparePartInStock}; }
 *     ...
 * }
 * }</pre>
 * While alpyperl trains the model, its observation reaches Python as {@code {"action_mask":
 * Box(0, 1, (choices,)), "observations": <the model's observation space>}}, the form RLlib's
 * action-masking RLModule reads, and an action the mask forbids is refused before the model runs.
 * In evaluation mode the exported policy picks only valid actions.
 *
 * <p>Why an interface of its own rather than more methods on {@link RLModel}: a model either has a
 * mask or not, so implementing the interface says so and no flag can disagree with the method;
 * {@link RLModel} and every model written against it stay as they are; and a multi-agent model,
 * whose agents carry the masks ({@link RLAgent#getActionMask()}), is not offered a method it must
 * not use.
 */
public interface MaskedModel extends RLModel {

    /**
     * Which actions are valid now: one entry per choice, {@code n} for {@code Discrete(n)}, the sum
     * of {@code nvec} for {@code MultiDiscrete(nvec)} (the choices of each entry one after another),
     * the same encoding as {@link RLAgent#getActionMask()}. {@code null} means every action is
     * valid. At least one choice of each entry must be valid: a model with nothing to decide should
     * not call {@code requestAction()}. Called at each decision point, after {@link #getObservation()}.
     */
    boolean[] getActionMask();
}
