/**
 * TEST DOUBLE - NOT ANYLOGIC. A small stand-in for the public API of AnyLogic's engine
 * ({@code com.anylogic.engine}), written from the facts in {@code anylogic-api.md}, so that
 * alpyperl's launcher can be tested without AnyLogic (which is proprietary and never committed).
 *
 * <p>It has the class and method names a launcher, generated model code and model libraries use,
 * with the signatures of AnyLogic 8.7.12, and behaves as measured on AnyLogic 8.7.12 (each class
 * documents its part): an event queue executed by {@link com.anylogic.engine.Engine#runFast()} on
 * the calling thread; cyclic events whose times drift and events at the stop time that still run;
 * {@code pause}/{@code finish}/{@code stop}, with {@code stop} running the root's On destroy code
 * and reporting events left scheduled; start-up and event errors printed on {@code System.err}
 * (state ERROR, {@code start}/{@code runFast} return true); an exception in an initial value that
 * escapes {@code start}; root agents that AnyLogic did not generate refused by {@code runFast},
 * which then ends the process with {@code System.exit(-1)}; embedded agents; a default random
 * number generator. Everything else of AnyLogic is left out.
 */
package com.anylogic.engine;
