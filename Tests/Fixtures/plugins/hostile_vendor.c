/*
 * hostile_vendor.c -- a vendor library (no inject header) whose function misbehaves on request,
 * for the tests of bounded vendor calls: act 1 crashes (SIGSEGV), 2 hangs, 3 calls exit(0),
 * 4 prints to standard output, 5 calls _exit(0); anything else succeeds. hostile_fill writes `k`
 * bytes into `why`, whatever the buffer's size (a manifest that gets the length wrong).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hostile_fill(char *why, uint32_t k) {
    memset(why, 'x', k);
    return 1;
}

int hostile_inject(uint32_t act) {
    switch (act) {
    case 1: { volatile int *nowhere = NULL; *nowhere = 1; break; }
    case 2: for (;;) sleep(1);
    case 3: exit(0);
    case 4: printf("vendor chatter\n"); break;
    case 5: _exit(0);
    }
    return 0;
}
