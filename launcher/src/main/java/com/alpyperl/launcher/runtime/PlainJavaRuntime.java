package com.alpyperl.launcher.runtime;

import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLModel;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a {@link PlainJavaModel}: a new instance per episode, parameters set on its fields, then run(). */
final class PlainJavaRuntime implements ModelRuntime {
    private final Constructor<?> constructor;
    private final Map<String, Field> parameters = new LinkedHashMap<>();

    PlainJavaRuntime(Class<?> modelClass) {
        if (!PlainJavaModel.class.isAssignableFrom(modelClass)) {
            throw new ModelLoadException("model class " + modelClass.getName() + " does not implement "
                    + PlainJavaModel.class.getName() + " (a plain Java model implements it: getObservation, "
                    + "takeAction, getReward, hasFinished and run)");
        }
        try {
            constructor = modelClass.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new ModelLoadException("model class " + modelClass.getName()
                    + " needs a public constructor without arguments");
        }
        for (Field field : modelClass.getFields()) {
            if (field.isAnnotationPresent(ModelParameter.class)) {
                if (Modifier.isStatic(field.getModifiers()) || Modifier.isFinal(field.getModifiers())) {
                    throw new ModelLoadException("parameter field " + modelClass.getSimpleName() + "." + field.getName()
                            + " must be neither static nor final");
                }
                ParameterValues.requireSupported(field.getType(), field.getName());
                parameters.put(field.getName(), field);
            }
        }
    }

    @Override
    public List<String> parameterNames() {
        return Collections.unmodifiableList(new ArrayList<>(parameters.keySet()));
    }

    @Override
    public void checkParameters(Map<String, Object> values) {
        for (Map.Entry<String, Object> value : values.entrySet()) {
            Field field = parameters.get(value.getKey());
            if (field == null) {
                throw ParameterValues.unknown(value.getKey(), parameters.keySet());
            }
            ParameterValues.convert(value.getValue(), field.getType(), value.getKey());
        }
    }

    @Override
    public ModelRun create(Map<String, Object> values, long seed) {
        checkParameters(values);
        final PlainJavaModel model;
        try {
            model = (PlainJavaModel) constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw new ModelException("the constructor of " + constructor.getDeclaringClass().getName() + " threw "
                    + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new ModelLoadException("cannot create " + constructor.getDeclaringClass().getName() + ": " + e, e);
        }
        for (Map.Entry<String, Object> value : values.entrySet()) {
            Field field = parameters.get(value.getKey());
            try {
                field.set(model, ParameterValues.convert(value.getValue(), field.getType(), value.getKey()));
            } catch (IllegalAccessException e) {
                throw new ModelLoadException("cannot set parameter " + value.getKey() + ": " + e, e);
            }
        }
        return new ModelRun() {
            @Override
            public RLModel model() {
                return model;
            }

            @Override
            public void run() {
                model.run();
            }

            @Override
            public void dispose() {
            }
        };
    }
}
