/* The limit for a corrected-MCE storm through mce-inject's files: the writes `inject run mce
 * count=N` makes, done by hand in C (open, write, close per attribute; bank last as the trigger).
 *
 *   mce-storm-loop ROOT COUNT
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *root, const char *name, const char *value)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sys/kernel/debug/mce-inject/%s", root, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
        perror(path);
        exit(1);
    }
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ROOT COUNT\n", argv[0]);
        return 64;
    }
    const char *root = argv[1];
    long count = atol(argv[2]);
    put(root, "flags", "sw\n");
    put(root, "cpu", "0");
    put(root, "status", "0x940000000000009f");
    put(root, "misc", "0x0");
    put(root, "addr", "0x1234000");
    put(root, "synd", "0x0");
    put(root, "bank", "1");
    for (long i = 1; i < count; i++) {
        /* mce-inject clears its record after each bank write: status and addr again, then bank. */
        put(root, "status", "0x940000000000009f");
        put(root, "addr", "0x1234000");
        put(root, "bank", "1");
    }
    return 0;
}
