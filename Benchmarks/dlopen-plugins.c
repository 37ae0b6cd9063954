/* The floor for `inject list`: a C program that dlopens the same plugin files (RTLD_NOW |
 * RTLD_LOCAL, as the host does) and looks up their entry symbol, without any host logic.
 *
 *   dlopen-plugins PLUGIN.so...
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        void *handle = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle || !dlsym(handle, "inject_plugin_entry")) {
            fprintf(stderr, "%s: %s\n", argv[i], dlerror());
            return 1;
        }
    }
    printf("%d plugins\n", argc - 1);
    return 0;
}
