package com.alpyperl.connector;

import java.awt.Graphics2D;

/**
 * A model that can draw a picture of its current state, so that Python can watch it:
 * {@code AnyLogicEnv(render_mode="rgb_array")} returns these pictures as frames (for videos, e.g.
 * with {@code gymnasium.wrappers.RecordVideo}), {@code render_mode="human"} shows them in a window.
 * A model that implements only {@link RLModel} trains as before; asking it for frames is refused
 * with a message that names this interface. The root of a multi-agent model ({@link MultiAgentModel})
 * implements it the same way and draws the whole scene, for {@code AnyLogicMultiAgentEnv(render_mode=...)}.
 *
 * <p>Drawing is a separate interface rather than a default method of {@link RLModel} so that
 * whether a model draws is said in one place, its type: there is no second method such as
 * {@code canDraw()} that could disagree with the drawing code. In AnyLogic, add
 * {@code com.alpyperl.connector.Drawable} to the root agent's "Implements" field next to
 * {@code RLModel}. The method's name, {@code drawFrame}, is chosen not to collide with the drawing
 * methods of AnyLogic's own classes.
 *
 * <p>Drawing needs no screen: the JVM of alpyperl runs headless and the picture is an image in
 * memory.
 */
public interface Drawable {

    /**
     * Draws the model's current state on {@code g}, a canvas of {@code width} by {@code height}
     * pixels (origin top left, y pointing down) that has just been filled white and has
     * anti-aliasing on.
     *
     * <p>Called while the model waits at a decision point or after its episode has ended, never
     * while model code runs; it must only read the model's state, not change it. It may be called
     * on a thread other than the model's.
     */
    void drawFrame(Graphics2D g, int width, int height);
}
