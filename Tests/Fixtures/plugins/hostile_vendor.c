/*
 * hostile_vendor.c -- a vendor library (no inject header) whose function misbehaves on request,
 * for the tests of bounded vendor calls: act 1 crashes (SIGSEGV), 2 hangs, 3 calls exit(0),
 * 4 prints to standard output, 5 calls _exit(0); anything else succeeds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
