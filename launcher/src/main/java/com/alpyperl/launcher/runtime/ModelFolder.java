package com.alpyperl.launcher.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A model folder: an AnyLogic export ("standalone Java application"), or a plain Java model laid
 * out like one. An AnyLogic export is recognised by its launch script ({@code <Name>_linux.sh},
 * {@code <Name>_mac} or {@code <Name>_windows.bat}, see {@link LaunchScript}), which names the
 * classpath, JVM options and experiment class. A plain Java model is described by {@value
 * #DESCRIPTOR}, which takes precedence:
 * <pre>
 * name=CartPole
 * model.class=com.example.CartPole
 * classpath=model.jar:lib/anylogic-lib.jar
 * jvm.options=-Xmx1g
 * </pre>
 * Each folder gets its own class loader, shared by all of its sessions in this JVM; the
 * connector classes always come from alpyperl's own jar so that host and model agree on them (a
 * folder that carries another connector version is warned about once, {@link #takeConnectorWarning}). An
 * export of an ALPypeRL 1.x model runs with alpyperl's 1.x compatibility jar in place of its 1.x
 * library ({@link Alpyperl1Library}).
 */
public final class ModelFolder {
    /** The file that describes a plain Java model folder. */
    public static final String DESCRIPTOR = "alpyperl-model.properties";

    private static final Map<String, ModelFolder> OPENED = new ConcurrentHashMap<>();

    private final File folder;
    private final String name;
    private final URLClassLoader classLoader;
    private final List<String> jvmOptions;
    private final ModelRuntime runtime;
    private final boolean alpyperl1;
    private final AtomicReference<String> connectorWarning;

    private ModelFolder(File folder) {
        this.folder = folder;
        File descriptorFile = new File(folder, DESCRIPTOR);
        File script = descriptorFile.isFile() ? null : LaunchScript.find(folder);
        if (script == null) {
            Properties descriptor = readDescriptor(folder);
            this.name = descriptor.getProperty("name", folder.getName()).trim();
            String modelClass = required(descriptor, "model.class");
            this.classLoader = new URLClassLoader(classpath(folder, Arrays.asList(required(descriptor, "classpath")
                    .split("[:;]")), DESCRIPTOR).toArray(new URL[0]), ModelFolder.class.getClassLoader());
            this.alpyperl1 = false;
            this.jvmOptions = words(descriptor.getProperty("jvm.options", ""));
            this.runtime = new PlainJavaRuntime(loadClass(modelClass));
        } else {
            LaunchScript launch = LaunchScript.read(script);
            this.name = launch.modelName();
            List<URL> classpath = classpath(folder, launch.classpath(), launch.fileName());
            List<URL> withCompatibilityJar = Alpyperl1Library.replaceIn(classpath);
            this.alpyperl1 = withCompatibilityJar != null;
            this.classLoader = new URLClassLoader((alpyperl1 ? withCompatibilityJar : classpath).toArray(new URL[0]),
                    ModelFolder.class.getClassLoader());
            this.jvmOptions = launch.jvmOptions();
            this.runtime = new AnyLogicRuntime(classLoader, launch.experimentClass(), name, launch.fileName(), alpyperl1);
        }
        this.connectorWarning = new AtomicReference<>(ConnectorVersion.mismatch(folder, Arrays.asList(classLoader.getURLs())));
    }

    /** Opens the model folder at {@code path}; the same folder is opened once per JVM. */
    public static ModelFolder open(String path) {
        File folder = new File(path);
        if (!folder.isDirectory()) {
            throw new ModelLoadException(folder.exists() ? path + " is a file; give the model's folder"
                    : "model folder " + folder.getAbsolutePath() + " does not exist");
        }
        String key;
        try {
            key = folder.getCanonicalPath();
        } catch (IOException e) {
            throw new ModelLoadException("cannot resolve model folder " + path + ": " + e, e);
        }
        ModelFolder opened = OPENED.computeIfAbsent(key, k -> new ModelFolder(new File(k)));
        ExitReporter.watch(opened.classLoader); // a System.exit in model code would end the Python process without a word
        return opened;
    }

    /** The model's name (from the descriptor, else the folder's name). */
    public String getName() {
        return name;
    }

    /** The folder on disk. */
    public File getFolder() {
        return folder;
    }

    /**
     * The JVM options the model asks for (from its launch script, or {@code jvm.options} of the
     * descriptor); alpyperl's Python side reads the same before it starts the JVM.
     */
    public List<String> getJvmOptions() {
        return jvmOptions;
    }

    /**
     * Whether this is an AnyLogic export of an ALPypeRL 1.x model: it carries the 1.x library,
     * which runs as alpyperl's compatibility jar instead (see {@link Alpyperl1Library}).
     */
    public boolean isAlpyperl1Model() {
        return alpyperl1;
    }

    /**
     * A warning that this folder carries a connector jar of another version than the connector
     * alpyperl runs its model with, the first time it is asked for in this JVM; else null.
     */
    public String takeConnectorWarning() {
        return connectorWarning.getAndSet(null);
    }

    public ClassLoader classLoader() {
        return classLoader;
    }

    public ModelRuntime runtime() {
        return runtime;
    }

    private Class<?> loadClass(String className) {
        try {
            return Class.forName(className, false, classLoader);
        } catch (ClassNotFoundException e) {
            throw new ModelLoadException("model class " + className + " was not found in the classpath of "
                    + folder + " (" + describeClasspath() + ")", e);
        } catch (LinkageError e) {
            throw new ModelLoadException("model class " + className + " could not be loaded: " + e, e);
        }
    }

    private String describeClasspath() {
        List<String> entries = new ArrayList<>();
        for (URL url : classLoader.getURLs()) {
            String path = url.getPath();
            entries.add(path.startsWith(folder.toURI().getPath()) ? path.substring(folder.toURI().getPath().length()) : path);
        }
        return String.join(", ", entries);
    }

    private static Properties readDescriptor(File folder) {
        File file = new File(folder, DESCRIPTOR);
        if (!file.isFile()) {
            throw new ModelLoadException(folder + " is not a model folder: it has no " + DESCRIPTOR
                    + " (a plain Java model) and no AnyLogic launch script (<Name>_linux.sh, <Name>_mac or "
                    + "<Name>_windows.bat). For an AnyLogic model, give the folder that AnyLogic's export to a "
                    + "standalone Java application created");
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file.toPath())) {
            properties.load(in);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e, e);
        }
        return properties;
    }

    private static String required(Properties descriptor, String key) {
        String value = descriptor.getProperty(key);
        if (value == null || value.trim().isEmpty()) {
            throw new ModelLoadException(DESCRIPTOR + " must set " + key);
        }
        return value.trim();
    }

    /**
     * The classpath entries (relative to the folder) as URLs, each once. A missing jar is an
     * error; a missing folder (such as an empty {@code resources}) is left out.
     */
    private static List<URL> classpath(File folder, List<String> entries, String source) {
        Set<URL> urls = new LinkedHashSet<>();
        for (String entry : entries) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            File file = new File(folder, trimmed);
            if (!file.exists()) {
                if (!trimmed.toLowerCase(Locale.ROOT).matches(".*\\.(jar|zip)")) {
                    continue;
                }
                throw new ModelLoadException("the model's classpath names " + trimmed + ", which is missing from "
                        + folder + " (the classpath is in " + source + ")" + sourceFolderHint(folder));
            }
            try {
                urls.add(file.toURI().toURL());
            } catch (MalformedURLException e) {
                throw new ModelLoadException("bad classpath entry " + trimmed + " in " + source + ": " + e, e);
            }
        }
        return new ArrayList<>(urls);
    }

    /**
     * For a model's source folder given instead of the folder its build lays out (both hold the
     * descriptor, as in this repository's examples): which folder to give.
     */
    private static String sourceFolderHint(File folder) {
        File built = new File(new File(folder, "build"), "model");
        if (new File(built, DESCRIPTOR).isFile()) {
            return "; this looks like the model's source folder: give the folder its build made, " + built;
        }
        if (new File(folder, "src").isDirectory()) {
            return "; this looks like the model's source folder: build it (gradle build) and give its build/model"
                    + " folder";
        }
        return "";
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        for (String word : text.trim().split("\\s+")) {
            if (!word.isEmpty()) {
                words.add(word);
            }
        }
        return Collections.unmodifiableList(words);
    }
}
