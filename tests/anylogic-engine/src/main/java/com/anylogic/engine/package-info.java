/**
 * TEST DOUBLE - NOT ANYLOGIC. A small stand-in for the public API of AnyLogic's engine
 * ({@code com.anylogic.engine}), written from the facts in {@code anylogic-api.md}, so that
 * alpyperl's launcher can be tested without AnyLogic (which is proprietary and never committed).
 *
 * <p>It has the class and method names a launcher uses and their documented behaviour: an event
 * queue executed by {@link com.anylogic.engine.Engine#runFast()} on the calling thread, {@code
 * pause}/{@code stop}/{@code finish}, the engine states, exceptions of model code caught and
 * printed on {@code System.err} (state ERROR, {@code runFast} returns false) and a default random
 * number generator. Everything else of AnyLogic is left out.
 */
package com.anylogic.engine;
