/*
 * fixture.c -- a configurable C plugin for loader tests, built during the tests with -D flags:
 *   FIXTURE_NAME="name"     the backend name (default "fixture")
 *   FIXTURE_MAJOR=N         the ABI major the descriptor claims (default INJECT_ABI_MAJOR)
 *   FIXTURE_REFUSE          the entry refuses with a message
 *   FIXTURE_NO_ENTRY        export no entry symbol at all
 *   FIXTURE_SHORT_DESCRIPTOR the descriptor claims a struct_size smaller than ABI 1.0's
 *   FIXTURE_BAD_DEFAULT     a parameter whose default violates its own range
 *   FIXTURE_PLAN_FAILS      plan fails with a message
 *   FIXTURE_BAD_PATH        plan names a path with ".."
 *   FIXTURE_STEP_1_0        steps claim ABI 1.0's struct_size (before the 1.1 repeat fields)
 *   FIXTURE_REPEAT=N        after the write, a repeat step covering N steps, 3 more times
 *   FIXTURE_FUTURE          built as against a newer header (1.9): its descriptor and steps are
 *                           larger than this header's, and it answers the host's minor
 *   FIXTURE_STALE_HANDLE    probe keeps its inject_call; plan adds its step through that stale one
 * Hostile behaviour, each FIXTURE_IN_<PLACE>=<ACT> with PLACE one of CONSTRUCTOR, ENTRY, PROBE,
 * PLAN and ACT 1 crash (SIGSEGV), 2 hang, 3 exit(0), 4 print to standard output, 5 _exit(0),
 * 6 the exit_group system call, 7 SIGSEGV reset to its default then a crash, 8 SIGSEGV ignored
 * then a crash, 9 its own SIGSEGV handler that calls _exit(0) then a crash, 10 raise(SIGKILL),
 * 11 fork a child that closes its descriptors and waits forever (then go on):
 *   FIXTURE_IN_CONSTRUCTOR, FIXTURE_IN_ENTRY, FIXTURE_IN_PROBE, FIXTURE_IN_PLAN
 *   FIXTURE_STEPS=N         plan adds N write steps (stops at the first refusal)
 *   FIXTURE_EVIL_MESSAGE    plan fails with a 100 KB message full of terminal escapes
 *   FIXTURE_COUNT_FILE="p"  every load (constructor run) appends one byte to the file p
 *   FIXTURE_PROBE_FLOOD=N   probe reports a capability with a 10 MB detail, then N more
 */
#include <inject_plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>

/* A plugin's own SIGSEGV handler that ends the process quietly with status 0. */
__attribute__((unused)) static void quiet_exit(int signal_number) { (void)signal_number; _exit(0); }

/* The hostile acts (see above). */
__attribute__((unused)) static void hostile(int act) {
    switch (act) {
    case 1: { volatile int *nowhere = NULL; *nowhere = 1; break; }
    case 2: for (;;) sleep(1);
    case 3: exit(0);
    case 4: printf("hello from a plugin\n"); break;
    case 5: _exit(0);
    case 6: syscall(SYS_exit_group, 0); break;
    case 7: { signal(SIGSEGV, SIG_DFL); volatile int *nowhere = NULL; *nowhere = 1; break; }
    case 8: { signal(SIGSEGV, SIG_IGN); volatile int *nowhere = NULL; *nowhere = 1; break; }
    case 9: { signal(SIGSEGV, quiet_exit); volatile int *nowhere = NULL; *nowhere = 1; break; }
    case 10: raise(SIGKILL); break;
    case 11: if (fork() == 0) { for (int fd = 0; fd < 1024; fd++) close(fd); pause(); _exit(0); } break;
    }
}

#if defined(FIXTURE_IN_CONSTRUCTOR) || defined(FIXTURE_COUNT_FILE)
__attribute__((constructor)) static void fixture_constructor(void) {
#ifdef FIXTURE_COUNT_FILE
    int fd = open(FIXTURE_COUNT_FILE, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd >= 0) { (void)!write(fd, "x", 1); close(fd); }
#endif
#ifdef FIXTURE_IN_CONSTRUCTOR
    hostile(FIXTURE_IN_CONSTRUCTOR);
#endif
}
#endif

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fixture"
#endif
#ifndef FIXTURE_MAJOR
#define FIXTURE_MAJOR INJECT_ABI_MAJOR
#endif
#ifdef FIXTURE_BAD_DEFAULT
#define FIXTURE_LEVEL_DEFAULT "9"
#else
#define FIXTURE_LEVEL_DEFAULT "3"
#endif

static const char *const families[] = {"test"};
static const inject_param_spec params[] = {
    {sizeof(inject_param_spec), INJECT_PARAM_U64, "level", "a bounded number", NULL, FIXTURE_LEVEL_DEFAULT,
     NULL, 0, INJECT_PARAM_HAS_RANGE, 1, 5},
};
static const inject_host_api *host;

#ifdef FIXTURE_STALE_HANDLE
static inject_call *kept_call;
static int32_t probe(void *state, inject_call *call) {
    (void)state;
    kept_call = call;
    return INJECT_OK;
}
#define FIXTURE_PROBE probe
#elif defined(FIXTURE_PROBE_FLOOD)
/* FIXTURE_PROBE_FLOOD=N: probe reports one capability with a 10 MB detail, then N more. */
static int32_t probe(void *state, inject_call *call) {
    (void)state;
    size_t size = 10u << 20;
    char *detail = malloc(size + 1);
    if (!detail) return INJECT_E_IO;
    memset(detail, 'd', size);
    detail[size] = 0;
    inject_capability capability = {sizeof capability, 1, "huge", detail};
    host->report_capability(call, &capability);
    free(detail);
    inject_capability small = {sizeof small, 0, "many", "one of many"};
    for (long i = 0; i < FIXTURE_PROBE_FLOOD; i++) host->report_capability(call, &small);
    return INJECT_OK;
}
#define FIXTURE_PROBE probe
#elif defined(FIXTURE_IN_PROBE)
static int32_t probe(void *state, inject_call *call) {
    (void)state; (void)call;
    hostile(FIXTURE_IN_PROBE);
    return INJECT_OK;
}
#define FIXTURE_PROBE probe
#else
#define FIXTURE_PROBE NULL
#endif

#ifdef FIXTURE_FUTURE
/* What a 1.9 header's structs might look like: this header's, then fields it does not know. */
typedef struct { inject_step base; uint64_t future[4]; } future_step;
#define FIXTURE_STEP_TYPE future_step
#define FIXTURE_STEP_FIELD(s) (s).base
#else
#define FIXTURE_STEP_TYPE inject_step
#define FIXTURE_STEP_FIELD(s) (s)
#endif

static int32_t plan(void *state, inject_call *call, const inject_param_value *values, uint32_t count) {
    (void)state; (void)values; (void)count;
#ifdef FIXTURE_IN_PLAN
    hostile(FIXTURE_IN_PLAN);
#endif
#ifdef FIXTURE_EVIL_MESSAGE
    static char evil[100001];
    for (size_t i = 0; i + 5 < sizeof evil; i += 5) memcpy(evil + i, "\x1b[31m", 5);
    evil[sizeof evil - 1] = 0;
    host->set_error(call, INJECT_E_UNSUPPORTED, evil);
    return INJECT_E_UNSUPPORTED;
#endif
#ifdef FIXTURE_STEPS
    for (long i = 0; i < FIXTURE_STEPS; i++) {
        inject_step many;
        memset(&many, 0, sizeof many);
        many.struct_size = sizeof many;
        many.kind = INJECT_STEP_WRITE_ATTRIBUTE;
        many.path = "sys/fixture/level";
        many.value = "1";
        int32_t rc = host->add_step(call, &many);
        if (rc != INJECT_OK) return rc;
    }
    return INJECT_OK;
#endif
#ifdef FIXTURE_PLAN_FAILS
    host->set_error(call, INJECT_E_UNSUPPORTED, "the fixture cannot do that: try level=1");
    return INJECT_E_UNSUPPORTED;
#else
    FIXTURE_STEP_TYPE whole;
    memset(&whole, 0, sizeof whole);
    inject_step *step = &FIXTURE_STEP_FIELD(whole);
#ifdef FIXTURE_STEP_1_0
    step->struct_size = INJECT_STEP_SIZE_1_0;
#else
    step->struct_size = sizeof whole;
#endif
    step->kind = INJECT_STEP_WRITE_ATTRIBUTE;
#ifdef FIXTURE_BAD_PATH
    step->path = "sys/../../etc/passwd";
#else
    step->path = "sys/fixture/level";
#endif
    step->value = values[0].text;
#ifdef FIXTURE_STALE_HANDLE
    call = kept_call;
#endif
    int32_t rc = host->add_step(call, step);
#ifdef FIXTURE_REPEAT
    if (rc == INJECT_OK) {
        inject_step again;
        memset(&again, 0, sizeof again);
        again.struct_size = sizeof again;
        again.kind = INJECT_STEP_REPEAT;
        again.repeat_steps = FIXTURE_REPEAT;
        again.repeat_times = 3;
        rc = host->add_step(call, &again);
    }
#endif
    return rc;
#endif
}

#ifdef FIXTURE_FUTURE
typedef struct { inject_plugin_descriptor base; uint64_t future[8]; } future_descriptor;
static future_descriptor whole_descriptor;
#define FIXTURE_DESCRIPTOR (&whole_descriptor.base)
#else
#define FIXTURE_DESCRIPTOR (&descriptor)
/* unused when FIXTURE_NO_ENTRY drops the entry that returns it */
__attribute__((unused)) static inject_plugin_descriptor descriptor = {
#ifdef FIXTURE_SHORT_DESCRIPTOR
    16,
#else
    INJECT_DESCRIPTOR_SIZE_1_0,
#endif
    FIXTURE_MAJOR, 0, FIXTURE_NAME, "0.0.1", "loader test fixture", families, 1, 1, params, FIXTURE_PROBE, plan, NULL,
};
#endif

#ifndef FIXTURE_NO_ENTRY
INJECT_PLUGIN_EXPORT int32_t inject_plugin_entry(inject_entry *entry) {
#ifdef FIXTURE_REFUSE
    entry->error_code = INJECT_E_UNSUPPORTED;
    snprintf(entry->error_message, sizeof entry->error_message, "fixture refuses: no license key found");
    return INJECT_E_UNSUPPORTED;
#else
#ifdef FIXTURE_IN_ENTRY
    hostile(FIXTURE_IN_ENTRY);
#endif
    host = entry->host;
#ifdef FIXTURE_FUTURE
    inject_plugin_descriptor d = {sizeof whole_descriptor, INJECT_ABI_MAJOR, entry->host_abi_minor < 9 ? entry->host_abi_minor : 9,
                                  FIXTURE_NAME, "0.0.1", "built against a newer header", families, 1, 1, params, NULL, plan, NULL,
                                  NULL, 0, 0, NULL, NULL, 0, 0, NULL};
    whole_descriptor.base = d;
    memset(whole_descriptor.future, 0xEE, sizeof whole_descriptor.future);
#endif
    entry->descriptor = FIXTURE_DESCRIPTOR;
    return INJECT_OK;
#endif
}
#else
INJECT_PLUGIN_EXPORT int some_other_symbol(void) { return 0; }
#endif
