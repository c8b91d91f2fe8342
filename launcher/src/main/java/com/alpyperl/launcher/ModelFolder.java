package com.alpyperl.launcher;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model folder, laid out like an AnyLogic export: the model's jars and a description of how to
 * run it. A plain Java model is described by {@value #DESCRIPTOR}:
 * <pre>
 * name=CartPole
 * model.class=com.example.CartPole
 * classpath=model.jar:lib/anylogic-lib.jar
 * </pre>
 * Each folder gets its own class loader, shared by all of its sessions in this JVM; the
 * connector classes always come from alpyperl's own jar so that host and model agree on them.
 */
public final class ModelFolder {
    /** The file that describes a plain Java model folder. */
    public static final String DESCRIPTOR = "alpyperl-model.properties";

    private static final Map<String, ModelFolder> OPENED = new ConcurrentHashMap<>();

    private final File folder;
    private final String name;
    private final URLClassLoader classLoader;
    private final ModelRuntime runtime;

    private ModelFolder(File folder) {
        this.folder = folder;
        Properties descriptor = readDescriptor(folder);
        this.name = descriptor.getProperty("name", folder.getName()).trim();
        String modelClass = required(descriptor, "model.class");
        this.classLoader = new URLClassLoader(classpath(folder, required(descriptor, "classpath")),
                ModelFolder.class.getClassLoader());
        this.runtime = new PlainJavaRuntime(loadClass(modelClass));
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
        return OPENED.computeIfAbsent(key, k -> new ModelFolder(new File(k)));
    }

    /** The model's name (from the descriptor, else the folder's name). */
    public String getName() {
        return name;
    }

    /** The folder on disk. */
    public File getFolder() {
        return folder;
    }

    ClassLoader classLoader() {
        return classLoader;
    }

    ModelRuntime runtime() {
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
                    + " (a plain Java model) and no AnyLogic launch script");
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

    private static URL[] classpath(File folder, String classpath) {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split("[:;]")) {
            if (entry.trim().isEmpty()) {
                continue;
            }
            File file = new File(folder, entry.trim());
            if (!file.exists()) {
                throw new ModelLoadException("the model's classpath names " + entry.trim() + ", which is missing from "
                        + folder);
            }
            try {
                urls.add(file.toURI().toURL());
            } catch (MalformedURLException e) {
                throw new ModelLoadException("bad classpath entry " + entry + ": " + e, e);
            }
        }
        return urls.toArray(new URL[0]);
    }
}
