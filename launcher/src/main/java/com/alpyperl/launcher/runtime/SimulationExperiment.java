package com.alpyperl.launcher.runtime;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Which experiment class builds the runs of an AnyLogic export. Normally the one its launch script
 * runs, a simulation experiment ({@code extends ExperimentSimulation}). An export launched with
 * another experiment (a custom experiment, as in ALPypeRL 1.x's custom-experiment example, whose
 * {@code run()} is code of its own) is run with the model's simulation experiment instead:
 * AnyLogic generates one, usually named Simulation, in the package of the model's experiments.
 */
final class SimulationExperiment {
    private static final String SIMULATION = "com.anylogic.engine.ExperimentSimulation";
    private static final String CUSTOM_EXPERIMENT = "com.anylogic.engine.ExperimentCustom";

    private SimulationExperiment() {
    }

    /**
     * The simulation experiment for the {@code launched} class of the launch script {@code
     * scriptName}; {@code simulation} and {@code experiment} are the engine's ExperimentSimulation
     * and Experiment classes (a custom experiment is neither).
     */
    static Class<?> of(Class<?> launched, Class<?> simulation, Class<?> experiment, String scriptName) {
        if (simulation.isAssignableFrom(launched)) {
            return launched;
        }
        if (!experiment.isAssignableFrom(launched) && !extendsClass(launched, CUSTOM_EXPERIMENT)) {
            throw new ModelLoadException("the launch script " + scriptName + " runs " + launched.getName()
                    + ", which is not a simulation experiment (it does not extend " + SIMULATION + "). In AnyLogic, "
                    + "export the model from its simulation experiment (Simulation : Main in the Projects view)");
        }
        List<Class<?>> found = new ArrayList<>();
        for (String name : classesInPackageOf(launched)) {
            try {
                Class<?> candidate = Class.forName(name, false, launched.getClassLoader());
                if (simulation.isAssignableFrom(candidate) && !Modifier.isAbstract(candidate.getModifiers())) {
                    found.add(candidate);
                }
            } catch (ClassNotFoundException | LinkageError e) {
                // not a class the model can run: look further
            }
        }
        List<String> names = new ArrayList<>();
        for (Class<?> candidate : found) {
            if (found.size() == 1 || candidate.getSimpleName().equals("Simulation")) {
                return candidate;
            }
            names.add(candidate.getName());
        }
        if (names.isEmpty()) {
            throw new ModelLoadException("the launch script " + scriptName + " runs the experiment " + launched.getName()
                    + ", and the model has no simulation experiment, which alpyperl needs: each episode is built as "
                    + "AnyLogic's Simulation experiment builds a run (a custom experiment's run() is code of its own). "
                    + "In AnyLogic, add a Simulation experiment to the model (New > Experiment > Simulation) and "
                    + "export the model again");
        }
        throw new ModelLoadException("the launch script " + scriptName + " runs the experiment " + launched.getName()
                + ", which is not a simulation experiment, and the model has several (" + String.join(", ", names)
                + "), none named Simulation. In AnyLogic, export the model from the simulation experiment to train "
                + "with");
    }

    private static boolean extendsClass(Class<?> type, String superclassName) {
        for (Class<?> t = type; t != null; t = t.getSuperclass()) {
            if (t.getName().equals(superclassName)) {
                return true;
            }
        }
        return false;
    }

    /** The names of the classes in the package of {@code type}, in the jar it was loaded from. */
    private static List<String> classesInPackageOf(Class<?> type) {
        List<String> names = new ArrayList<>();
        String name = type.getName();
        String prefix = name.substring(0, name.lastIndexOf('.') + 1).replace('.', '/');
        try (ZipFile jar = new ZipFile(new File(type.getProtectionDomain().getCodeSource().getLocation().toURI()))) {
            for (Enumeration<? extends ZipEntry> e = jar.entries(); e.hasMoreElements(); ) {
                String entry = e.nextElement().getName();
                if (entry.startsWith(prefix) && entry.endsWith(".class") && entry.indexOf('/', prefix.length()) < 0) {
                    names.add(entry.substring(0, entry.length() - ".class".length()).replace('/', '.'));
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            // not in a readable jar: no other experiment to offer
        }
        return names;
    }
}
