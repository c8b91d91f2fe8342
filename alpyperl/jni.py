"""The JVM of this process as JNI sees it, through ctypes: what :mod:`alpyperl._direct_step` needs
to call a static Java method without JPype (the JVM, a class, a method id).

JNI's function tables have a fixed layout (the JNI specification never moves an entry), so the
functions are taken from them by index, and nothing here needs a JDK's headers.
"""

from __future__ import annotations

import ctypes
from typing import NamedTuple

__all__ = ["StaticMethod", "static_method"]

# Indices in JNIInvokeInterface_ (a JavaVM's table) and JNINativeInterface_ (a JNIEnv's table).
_GET_ENV = 6
_FIND_CLASS, _EXCEPTION_CLEAR, _NEW_GLOBAL_REF, _GET_STATIC_METHOD_ID, _EXCEPTION_CHECK = 6, 17, 21, 113, 228
_JNI_VERSION_1_8 = 0x00010008

_pointer = ctypes.c_void_p
_GetEnv = ctypes.CFUNCTYPE(ctypes.c_int32, _pointer, ctypes.POINTER(_pointer), ctypes.c_int32)
_FindClass = ctypes.CFUNCTYPE(_pointer, _pointer, ctypes.c_char_p)
_NewGlobalRef = ctypes.CFUNCTYPE(_pointer, _pointer, _pointer)
_GetStaticMethodID = ctypes.CFUNCTYPE(_pointer, _pointer, _pointer, ctypes.c_char_p, ctypes.c_char_p)
_ExceptionCheck = ctypes.CFUNCTYPE(ctypes.c_ubyte, _pointer)
_ExceptionClear = ctypes.CFUNCTYPE(None, _pointer)


class StaticMethod(NamedTuple):
    """A static Java method as JNI calls it: the JavaVM, a global reference to its class, its method id."""

    vm: int
    cls: int
    method: int


def _table(pointer: int) -> ctypes.Array:
    """The function table that a JavaVM* or JNIEnv* points to."""
    return ctypes.cast(ctypes.cast(pointer, ctypes.POINTER(_pointer))[0], ctypes.POINTER(_pointer))


def static_method(jvm_library: str, class_name: str, name: str, signature: str) -> StaticMethod | None:
    """The static method ``name`` (JNI ``signature``) of ``class_name`` (``com/acme/Thing``, found by
    the system class loader) in the JVM that this process runs from ``jvm_library``; None if that
    JVM cannot be reached this way (another library, no JVM, this thread unknown to it) or the
    method does not exist. Call it from a thread that has called into Java already."""
    try:
        library = ctypes.CDLL(jvm_library)
        vms, count = (_pointer * 1)(), ctypes.c_int32()
        if library.JNI_GetCreatedJavaVMs(vms, 1, ctypes.byref(count)) != 0 or count.value != 1:
            return None
    except (OSError, AttributeError):
        return None
    vm = vms[0]
    env = _pointer()
    if _GetEnv(_table(vm)[_GET_ENV])(vm, ctypes.byref(env), _JNI_VERSION_1_8) != 0:
        return None
    functions = _table(env.value)
    local_class = _FindClass(functions[_FIND_CLASS])(env, class_name.encode())
    method = local_class and _GetStaticMethodID(functions[_GET_STATIC_METHOD_ID])(
        env, local_class, name.encode(), signature.encode())
    if _ExceptionCheck(functions[_EXCEPTION_CHECK])(env):  # no such class or method
        _ExceptionClear(functions[_EXCEPTION_CLEAR])(env)
        return None
    if not method:
        return None
    cls = _NewGlobalRef(functions[_NEW_GLOBAL_REF])(env, local_class)  # lives as long as the JVM
    return StaticMethod(vm, cls, method) if cls else None
