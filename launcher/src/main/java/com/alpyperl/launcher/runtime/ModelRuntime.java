package com.alpyperl.launcher.runtime;

import com.alpyperl.connector.RLModel;
import java.util.List;
import java.util.Map;

/**
 * How one kind of model is created and run: plain Java models ({@link PlainJavaRuntime}) and
 * AnyLogic exports ({@link AnyLogicRuntime}). {@link #create} and the runs' methods are called on
 * the session's model thread.
 */
public interface ModelRuntime {

    /** The names of the parameters Python may set, or {@code null} if only an instance knows them. */
    List<String> parameterNames();

    /**
     * What each parameter holds when Python sets none (the value an episode starts with), by name;
     * {@code null} if this runtime does not read them. Known once {@link #create} made a first instance.
     */
    default Map<String, ParameterDefault> parameterDefaults() {
        return null;
    }

    /**
     * Refuses parameters (name to value, as read from JSON) that the model cannot take: unknown
     * names, values of the wrong type. Checks what can be checked without an instance.
     */
    void checkParameters(Map<String, Object> values);

    /**
     * Creates the model instance of one episode, with the given parameters applied (the others
     * keep their defaults), for an episode with this seed. Connectors the model creates meanwhile
     * attach to the thread's host (and take the seed from it).
     */
    ModelRun create(Map<String, Object> parameters, long seed);

    /** A parameter's value before Python sets it: its Java type's simple name and the value as text. */
    final class ParameterDefault {
        /** The parameter's Java type ("double", "String"), or "" if unknown. */
        public final String type;
        /** The value as Java prints it ({@code String.valueOf}; arrays element by element). */
        public final String text;

        public ParameterDefault(String type, String text) {
            this.type = type;
            this.text = text;
        }
    }

    /** One model instance, created for one episode. */
    interface ModelRun {
        /** The instance as an {@link RLModel}, or {@code null} if it is not one. */
        RLModel model();

        /**
         * Builds the model's contents without running it, where that is a step of its own (AnyLogic:
         * {@code Engine.start()} creates the root's agents and runs their On startup code); used to
         * read spaces that the model declares only then. {@link #run()} builds it if this was not called.
         */
        default void build() {
        }

        /** Runs the episode to its end on the calling thread. */
        void run();

        /** Releases the instance after its episode ended or was abandoned. */
        void dispose();

        /**
         * Said after the message that the run ended before its first decision: how it ended and
         * what to check, in the terms of this kind of model; empty if there is nothing to add.
         */
        default String endOfRunHint() {
            return "";
        }
    }
}
