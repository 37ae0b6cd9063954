/* The ABI is a header only; this file gives the C target a translation unit. */
#include "inject_plugin.h"
