package com.anylogic.engine;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.junit.Test;

/**
 * The members that generated code and model libraries (such as ALPypeRL 1.x's connector) compile
 * against have AnyLogic 8.7.12's descriptors and modifiers, so that classes compiled against the
 * stand-in link against AnyLogic's engine too.
 */
public class SignaturesTest {
    private static void assertMethod(Class<?> type, String name, Class<?> result, boolean isFinal, Class<?>... parameters)
            throws NoSuchMethodException {
        Method method = type.getMethod(name, parameters);
        assertEquals(type.getSimpleName() + "." + name, result, method.getReturnType());
        assertTrue(type.getSimpleName() + "." + name + " is public", Modifier.isPublic(method.getModifiers()));
        assertEquals(type.getSimpleName() + "." + name + " final", isFinal, Modifier.isFinal(method.getModifiers()));
        assertEquals(type.getSimpleName() + "." + name + " static", false, Modifier.isStatic(method.getModifiers()));
    }

    @Test
    public void agentLifeCycleAndAccessors() throws NoSuchMethodException {
        Constructor<Agent> constructor = Agent.class.getConstructor(Engine.class, Agent.class, AgentList.class);
        assertTrue(Modifier.isPublic(constructor.getModifiers()));
        for (String name : new String[] {"create", "createAsEmbedded", "start", "startAsEmbedded"}) {
            assertMethod(Agent.class, name, void.class, true);
        }
        for (String name : new String[] {"doCreate", "doStart", "onCreate", "onStartup", "onDestroy", "doFinish"}) {
            assertMethod(Agent.class, name, void.class, false);
        }
        assertMethod(Agent.class, "setEnvironment", void.class, false, Agent.class);
        assertMethod(Agent.class, "getRootAgent", Agent.class, false);
        assertMethod(Agent.class, "getOwner", Agent.class, false);
        assertMethod(Agent.class, "getEngine", Engine.class, false);
        assertMethod(Agent.class, "pauseSimulation", boolean.class, false);
        assertMethod(Agent.class, "finishSimulation", boolean.class, false);
        assertMethod(Agent.class, "setParameter", boolean.class, false, String.class, Object.class, boolean.class);
        assertTrue(Modifier.isStatic(Agent.class.getMethod("traceln", Object.class).getModifiers()));
    }

    @Test
    public void engineEventAndExperiments() throws NoSuchMethodException {
        assertTrue(Modifier.isFinal(Engine.class.getModifiers()));
        assertMethod(Engine.class, "getRunCount", int.class, false);
        assertMethod(Engine.class, "getStopTime", double.class, false);
        assertMethod(Engine.class, "getExperiment", Experiment.class, false);
        assertMethod(Engine.class, "start", boolean.class, false, Agent.class);
        assertTrue(Modifier.isSynchronized(Engine.class.getMethod("start", Agent.class).getModifiers()));
        assertTrue(Modifier.isSynchronized(Engine.class.getMethod("runFast").getModifiers()));
        assertMethod(EventTimeout.class, "onDestroy", void.class, false);
        assertMethod(EventTimeout.class, "reset", void.class, false);
        assertMethod(Experiment.class, "getCommandLineArguments", String[].class, true);
        assertMethod(ExperimentCustom.class, "getCommandLineArguments", String[].class, true);
        assertMethod(ExperimentCustom.class, "createEngine", Engine.class, true);
        assertTrue(Modifier.isAbstract(ExperimentCustom.class.getMethod("run").getModifiers()));
        assertTrue(Modifier.isPublic(ExperimentCustom.class.getConstructor(Object.class).getModifiers()));
    }
}
