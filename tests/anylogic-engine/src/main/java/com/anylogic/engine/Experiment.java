package com.anylogic.engine;

/** TEST DOUBLE of AnyLogic's experiment base class. {@code ROOT} is the root agent's class. */
public abstract class Experiment<ROOT extends Agent> {
    protected Experiment() {
    }
}
