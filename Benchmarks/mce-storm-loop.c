/* The references for a corrected-MCE storm through mce-inject's files: the writes `inject run mce
 * count=N` makes, done by hand in C, bank last as the trigger.
 *
 *   mce-storm-loop ROOT COUNT          naive: open, write, close per attribute (9 calls per injection)
 *   mce-storm-loop ROOT COUNT held     the limit: status, addr and bank held open, one pwrite each
 *                                      at offset 0 (3 calls per injection; the kernel's simple
 *                                      attributes take repeated writes on one open file)
 *   mce-storm-loop ROOT COUNT campaign the writes a campaign's corrected-MCE plan makes (flags, cpu,
 *                                      status, misc, addr, synd, bank: 7 per injection), every file
 *                                      held open: the limit for a campaign batch in a lab's guest
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_attribute(const char *root, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sys/kernel/debug/mce-inject/%s", root, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    return fd;
}

static void put_fd(int fd, const char *value)
{
    ssize_t written = pwrite(fd, value, strlen(value), 0);
    /* 6.12's debugfs attributes are non-seekable: a plain write has no position to move. */
    if (written < 0 && errno == ESPIPE)
        written = write(fd, value, strlen(value));
    if (written != (ssize_t)strlen(value)) {
        perror("pwrite");
        exit(1);
    }
}

static void put(const char *root, const char *name, const char *value)
{
    int fd = open_attribute(root, name);
    if (write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
        perror(name);
        exit(1);
    }
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s ROOT COUNT [held|campaign]\n", argv[0]);
        return 64;
    }
    const char *root = argv[1];
    long count = atol(argv[2]);
    int held = argc == 4 && strcmp(argv[3], "held") == 0;
    if (argc == 4 && strcmp(argv[3], "campaign") == 0) {
        const char *names[] = {"flags", "cpu", "status", "misc", "addr", "synd", "bank"};
        const char *values[] = {"sw\n", "0", "0x940000000000009f", "0x0", "0x1234000", "0x0", "1"};
        int fds[7];
        for (int f = 0; f < 7; f++)
            fds[f] = open_attribute(root, names[f]);
        for (long i = 0; i < count; i++)
            for (int f = 0; f < 7; f++)
                put_fd(fds[f], values[f]);
        return 0;
    }
    put(root, "flags", "sw\n");
    put(root, "cpu", "0");
    put(root, "status", "0x940000000000009f");
    put(root, "misc", "0x0");
    put(root, "addr", "0x1234000");
    put(root, "synd", "0x0");
    put(root, "bank", "1");
    if (held) {
        int status = open_attribute(root, "status"), addr = open_attribute(root, "addr"), bank = open_attribute(root, "bank");
        for (long i = 1; i < count; i++) {
            put_fd(status, "0x940000000000009f");
            put_fd(addr, "0x1234000");
            put_fd(bank, "1");
        }
        return 0;
    }
    for (long i = 1; i < count; i++) {
        /* mce-inject clears its record after each bank write: status and addr again, then bank. */
        put(root, "status", "0x940000000000009f");
        put(root, "addr", "0x1234000");
        put(root, "bank", "1");
    }
    return 0;
}
