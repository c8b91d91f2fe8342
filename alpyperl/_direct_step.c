/*
 * alpyperl._direct_step: the step of a model group called straight through JNI.
 *
 * JPype spends about half a microsecond per call finding the method, matching arguments and
 * converting the result. The step path needs none of that: one static Java method
 * (com.alpyperl.launcher.DirectStep.stepAll(int) -> int) is called with one int. alpyperl.bridge
 * looks up the JVM, the class and the method once (with ctypes) and hands their addresses to a
 * DirectStep object here; its step() makes the call with the GIL released, as JPype does.
 *
 * It needs neither jni.h nor libjvm at build time: the JNI function tables have a fixed layout
 * (the JNI specification keeps every index stable), so the functions are taken from them by index.
 * Building this module is optional; without it alpyperl steps through JPype.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(_WIN32)
#define JNICALL __stdcall
#else
#define JNICALL
#endif

typedef union { int32_t i; int64_t j; double d; void *l; } jvalue_t;

typedef int32_t (JNICALL *GetEnvFn)(void *vm, void **env, int32_t version);
typedef int32_t (JNICALL *CallStaticIntMethodAFn)(void *env, void *cls, void *method, const jvalue_t *args);
typedef unsigned char (JNICALL *ExceptionCheckFn)(void *env);
typedef void (JNICALL *ExceptionClearFn)(void *env);

/* Indices in JNIInvokeInterface_ (the JavaVM's table) and JNINativeInterface_ (a JNIEnv's table). */
enum { GET_ENV = 6, EXCEPTION_CLEAR = 17, CALL_STATIC_INT_METHOD_A = 131, EXCEPTION_CHECK = 228 };
#define JNI_VERSION_1_8 0x00010008
/* What DirectStep.stepAll returns when the step threw. */
#define FAILED (-1)

typedef struct {
    PyObject_HEAD
    void *vm;           /* JavaVM* */
    void *cls;          /* a global reference to com.alpyperl.launcher.DirectStep */
    void *method;       /* the jmethodID of its static int stepAll(int) */
    jvalue_t args[1];   /* the group's handle */
    PyObject *fallback; /* steps through JPype: for a thread the JVM does not know yet */
    PyObject *failure;  /* returns the Java exception of a step that returned FAILED */
    /* What step_with(action) uses (bind_action): */
    PyObject *write_action; /* writes any action into the row (Python), or NULL before bind_action */
    PyObject *integer_types; /* a tuple of the exact types that are written into action_slot here */
    Py_buffer action_slot;  /* the row's place of a Discrete action (one float64), when has_slot */
    int has_slot;
} DirectStep;

static int DirectStep_init(DirectStep *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"vm", "cls", "method", "handle", "fallback", "failure", NULL};
    unsigned long long vm, cls, method;
    int handle;
    PyObject *fallback, *failure;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KKKiOO", keywords, &vm, &cls, &method, &handle,
                                     &fallback, &failure)) {
        return -1;
    }
    if (!vm || !cls || !method || !PyCallable_Check(fallback) || !PyCallable_Check(failure)) {
        PyErr_SetString(PyExc_ValueError, "DirectStep needs the JVM, the class, the method and two callables");
        return -1;
    }
    self->vm = (void *)(uintptr_t)vm;
    self->cls = (void *)(uintptr_t)cls;
    self->method = (void *)(uintptr_t)method;
    self->args[0].j = 0;
    self->args[0].i = handle;
    Py_INCREF(fallback);
    Py_XSETREF(self->fallback, fallback);
    Py_INCREF(failure);
    Py_XSETREF(self->failure, failure);
    return 0;
}

static void release_action(DirectStep *self)
{
    Py_CLEAR(self->write_action);
    Py_CLEAR(self->integer_types);
    if (self->has_slot) {
        PyBuffer_Release(&self->action_slot); /* also lets go of the array that holds it */
        self->has_slot = 0;
    }
}

static void DirectStep_dealloc(DirectStep *self)
{
    release_action(self);
    Py_XDECREF(self->fallback);
    Py_XDECREF(self->failure);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* step(): the group's flags; raises the step's Java exception (as JPype gives it) when it failed. */
static PyObject *DirectStep_step(DirectStep *self, PyObject *Py_UNUSED(ignored))
{
    void *env = NULL;
    GetEnvFn get_env = (GetEnvFn)(*(void ***)self->vm)[GET_ENV];
    if (get_env(self->vm, &env, JNI_VERSION_1_8) != 0) {
        return PyObject_CallNoArgs(self->fallback); /* JPype attaches this thread to the JVM */
    }
    void **functions = *(void ***)env;
    int32_t flags;
    unsigned char pending;
    Py_BEGIN_ALLOW_THREADS
    flags = ((CallStaticIntMethodAFn)functions[CALL_STATIC_INT_METHOD_A])(env, self->cls, self->method, self->args);
    pending = ((ExceptionCheckFn)functions[EXCEPTION_CHECK])(env);
    if (pending) {
        ((ExceptionClearFn)functions[EXCEPTION_CLEAR])(env);
    }
    Py_END_ALLOW_THREADS
    if (pending) { /* thrown before DirectStep.stepAll's own handler, e.g. this thread's stack was full */
        PyErr_SetString(PyExc_RuntimeError, "the JVM could not start the step (a Java error outside the model, "
                                            "such as a full thread stack)");
        return NULL;
    }
    if (flags == FAILED) {
        PyObject *error = PyObject_CallNoArgs(self->failure);
        if (error == NULL) {
            return NULL;
        }
        if (PyExceptionInstance_Check(error)) {
            PyErr_SetObject((PyObject *)Py_TYPE(error), error);
        } else {
            PyErr_Format(PyExc_RuntimeError, "the step failed, and its failure came back as %R", error);
        }
        Py_DECREF(error);
        return NULL;
    }
    return PyLong_FromLong(flags);
}

/*
 * bind_action(write_action, action_slot, integer_types): what step_with uses. write_action(action)
 * writes any action into the row; action_slot (a writable buffer of one float64, or None) is where
 * a Discrete action goes, so that an action whose type is one of integer_types (exactly) is
 * written here without calling Python. Java checks the value either way.
 */
static PyObject *DirectStep_bind_action(DirectStep *self, PyObject *args)
{
    PyObject *write_action, *slot, *integer_types;
    if (!PyArg_ParseTuple(args, "OOO!", &write_action, &slot, &PyTuple_Type, &integer_types)) {
        return NULL;
    }
    if (!PyCallable_Check(write_action)) {
        PyErr_SetString(PyExc_TypeError, "bind_action needs a callable that writes an action");
        return NULL;
    }
    Py_buffer buffer;
    int has_slot = slot != Py_None;
    if (has_slot) {
        if (PyObject_GetBuffer(slot, &buffer, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
            return NULL;
        }
        if (buffer.len != sizeof(double) || buffer.format == NULL || strcmp(buffer.format, "d") != 0) {
            PyBuffer_Release(&buffer);
            PyErr_SetString(PyExc_ValueError, "the action slot must be one float64");
            return NULL;
        }
    }
    release_action(self);
    Py_INCREF(write_action);
    self->write_action = write_action;
    Py_INCREF(integer_types);
    self->integer_types = integer_types;
    if (has_slot) {
        self->action_slot = buffer;
        self->has_slot = 1;
    }
    Py_RETURN_NONE;
}

/* Whether action is a plain integer to write into the slot (one of integer_types, exactly, that
 * fits in 64 bits); sets *value then. Anything else (and any error on the way) is left to write_action. */
static int plain_integer(DirectStep *self, PyObject *action, long long *value)
{
    PyTypeObject *type = Py_TYPE(action);
    Py_ssize_t count = PyTuple_GET_SIZE(self->integer_types);
    Py_ssize_t k = 0;
    while (k < count && (PyObject *)type != PyTuple_GET_ITEM(self->integer_types, k)) {
        k++;
    }
    if (k == count) {
        return 0;
    }
    PyObject *number = type == &PyLong_Type ? Py_NewRef(action) : PyNumber_Index(action);
    if (number == NULL) {
        PyErr_Clear();
        return 0;
    }
    int overflow = 0;
    *value = PyLong_AsLongLongAndOverflow(number, &overflow);
    Py_DECREF(number);
    if (overflow || (*value == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* step_with(action): writes action (see bind_action), then steps as step() does. */
static PyObject *DirectStep_step_with(DirectStep *self, PyObject *action)
{
    long long value;
    if (self->write_action == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "step_with needs bind_action first");
        return NULL;
    }
    if (self->has_slot && plain_integer(self, action, &value)) {
        *(double *)self->action_slot.buf = (double)value;
    } else {
        PyObject *written = PyObject_CallOneArg(self->write_action, action);
        if (written == NULL) {
            return NULL;
        }
        Py_DECREF(written);
    }
    return DirectStep_step(self, NULL);
}

static PyMethodDef DirectStep_methods[] = {
    {"bind_action", (PyCFunction)DirectStep_bind_action, METH_VARARGS,
     "bind_action(write_action, action_slot, integer_types): what step_with writes actions with."},
    {"step_with", (PyCFunction)DirectStep_step_with, METH_O,
     "Writes the action (see bind_action), then steps as step() does."},
    {"step", (PyCFunction)DirectStep_step, METH_NOARGS,
     "Steps the group: its flags (see ModelSessionGroup.stepAll); raises the Java exception of a failed step."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DirectStepType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "alpyperl._direct_step.DirectStep",
    .tp_doc = PyDoc_STR("DirectStep(vm, cls, method, handle, fallback, failure): a group's step called through JNI."),
    .tp_basicsize = sizeof(DirectStep),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)DirectStep_init,
    .tp_dealloc = (destructor)DirectStep_dealloc,
    .tp_methods = DirectStep_methods,
};

static struct PyModuleDef direct_step_module = {
    PyModuleDef_HEAD_INIT, "_direct_step",
    "A model group's step called straight through JNI (see alpyperl.bridge).", -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__direct_step(void)
{
    if (PyType_Ready(&DirectStepType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&direct_step_module);
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(&DirectStepType);
    if (PyModule_AddObject(module, "DirectStep", (PyObject *)&DirectStepType) < 0) {
        Py_DECREF(&DirectStepType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
