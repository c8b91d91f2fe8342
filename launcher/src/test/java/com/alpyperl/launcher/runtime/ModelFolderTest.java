package com.alpyperl.launcher.runtime;

import static com.alpyperl.launcher.ModelSessionTest.assertContains;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;

import com.alpyperl.launcher.TestFolders;
import com.alpyperl.launcher.testmodels.BrokenModels;
import com.alpyperl.launcher.testmodels.CountingModel;
import java.io.File;
import java.io.IOException;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Reading model folders: the descriptor, the classpath, the model class, and the errors that say what to fix. */
public class ModelFolderTest {
    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();

    @Test
    public void opensAFolderOncePerJvm() throws IOException {
        File folder = temporary.newFolder("counting");
        TestFolders.write(folder, descriptor("Counter", CountingModel.class.getName(), classes(folder)));
        ModelFolder opened = ModelFolder.open(folder.getPath());
        assertEquals("Counter", opened.getName());
        assertEquals(folder.getCanonicalFile(), opened.getFolder());
        assertSame(opened, ModelFolder.open(folder.getPath()));
        assertSame(opened, ModelFolder.open(new File(folder, ".").getPath()));
    }

    @Test
    public void theNameDefaultsToTheFolderName() throws IOException {
        File folder = temporary.newFolder("unnamed-model");
        TestFolders.write(folder, "model.class=" + CountingModel.class.getName() + "\nclasspath=" + classes(folder) + "\n");
        assertEquals("unnamed-model", ModelFolder.open(folder.getPath()).getName());
    }

    @Test
    public void refusesAMissingFolderOrAFile() throws IOException {
        File missing = new File(temporary.getRoot(), "nowhere");
        assertRefused(missing.getPath(), "model folder", "nowhere does not exist");
        File file = temporary.newFile("model.jar");
        assertRefused(file.getPath(), "is a file; give the model's folder");
    }

    @Test
    public void refusesAFolderWithoutDescriptor() throws IOException {
        File folder = temporary.newFolder();
        assertRefused(folder.getPath(), "is not a model folder", "no " + ModelFolder.DESCRIPTOR);
    }

    @Test
    public void refusesADescriptorWithoutClassOrClasspath() throws IOException {
        File noClass = temporary.newFolder();
        TestFolders.write(noClass, "name=x\nclasspath=" + classes(noClass) + "\n");
        assertRefused(noClass.getPath(), "must set model.class");
        File noClasspath = temporary.newFolder();
        TestFolders.write(noClasspath, "name=x\nmodel.class=" + CountingModel.class.getName() + "\n");
        assertRefused(noClasspath.getPath(), "must set classpath");
    }

    @Test
    public void refusesAMissingClasspathEntry() throws IOException {
        File folder = temporary.newFolder();
        TestFolders.write(folder, descriptor("x", CountingModel.class.getName(), classes(folder) + ":lib/missing.jar"));
        assertRefused(folder.getPath(), "names lib/missing.jar, which is missing from");
    }

    @Test
    public void aSourceFolderGivenForItsBuildNamesTheFolderToGive() throws IOException {
        File source = temporary.newFolder("source");
        TestFolders.write(source, descriptor("x", CountingModel.class.getName(), "model.jar"));
        new File(source, "src").mkdirs();
        assertRefused(source.getPath(), "names model.jar, which is missing from",
                "this looks like the model's source folder: build it (gradle build) and give its build/model folder");
        File built = new File(source, "build/model");
        built.mkdirs();
        TestFolders.write(built, descriptor("x", CountingModel.class.getName(), "model.jar"));
        assertRefused(source.getPath(), "give the folder its build made, " + built);
        File plain = temporary.newFolder("plain");
        TestFolders.write(plain, descriptor("x", CountingModel.class.getName(), "model.jar"));
        ModelLoadException plainRefused = assertThrows(ModelLoadException.class, () -> ModelFolder.open(plain.getPath()));
        assertEquals(-1, plainRefused.getMessage().indexOf("source folder"));
    }

    @Test
    public void refusesAnUnknownClass() throws IOException {
        File folder = temporary.newFolder();
        TestFolders.write(folder, descriptor("x", "com.example.NoSuchModel", classes(folder)));
        assertRefused(folder.getPath(), "model class com.example.NoSuchModel was not found in the classpath");
    }

    @Test
    public void refusesClassesThatAreNotUsableModels() throws IOException {
        assertRefusedModel(BrokenModels.NotAModel.class, "does not implement com.alpyperl.connector.PlainJavaModel");
        assertRefusedModel(BrokenModels.NoDefaultConstructor.class, "needs a public constructor without arguments");
        assertRefusedModel(BrokenModels.UnsupportedParameter.class, "parameter values has type int[]");
        assertRefusedModel(BrokenModels.StaticParameter.class, "StaticParameter.shared must be neither static nor final");
        assertRefusedModel(BrokenModels.FinalParameter.class, "FinalParameter.fixed must be neither static nor final");
    }

    private void assertRefusedModel(Class<?> modelClass, String fragment) throws IOException {
        File folder = temporary.newFolder();
        TestFolders.write(folder, descriptor("x", modelClass.getName(), classes(folder)));
        assertRefused(folder.getPath(), fragment);
    }

    private static void assertRefused(String path, String... fragments) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelFolder.open(path));
        assertContains(e.getMessage(), fragments);
    }

    private static String classes(File folder) {
        return TestFolders.classesPathFrom(folder, CountingModel.class);
    }

    private static String descriptor(String name, String modelClass, String classpath) {
        return "name=" + name + "\nmodel.class=" + modelClass + "\nclasspath=" + classpath + "\n";
    }
}
