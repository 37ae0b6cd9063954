/*
 * example_hwpoison.c -- a complete inject backend written in C against inject_plugin.h alone.
 *
 * It poisons (or unpoisons) one page frame through the kernel's hwpoison-inject debugfs files,
 * the way a vendor would wrap a private injection path. Build it with nothing but the header:
 *
 *     cc -shared -fPIC -fvisibility=hidden -I ../../Sources/InjectPluginABI/include \
 *        -o libexample_hwpoison.so example_hwpoison.c
 *
 * then: inject --plugin-path ./libexample_hwpoison.so run example-hwpoison pfn=0x1234 --dry-run
 */
#include <inject_plugin.h>
#include <stdio.h>
#include <string.h>

static const char *const families[] = {"memory", "hwpoison"};
static const char *const actions[] = {"corrupt", "unpoison"};

static const inject_param_spec params[] = {
    {sizeof(inject_param_spec), INJECT_PARAM_U64, "pfn", "the page frame number to poison", NULL, NULL,
     NULL, 0, INJECT_PARAM_REQUIRED | INJECT_PARAM_HAS_RANGE, 1, 0xFFFFFFFFFFull},
    {sizeof(inject_param_spec), INJECT_PARAM_ENUM, "action", "corrupt or unpoison the page", NULL, "corrupt",
     actions, 2, 0, 0, 0},
};

static const inject_host_api *host;

static int32_t probe(void *state, inject_call *call) {
    (void)state;
    char buffer[64];
    size_t length = 0;
    int32_t rc = host->read_attribute(call, "sys/kernel/debug/hwpoison/corrupt-pfn", buffer, sizeof buffer, &length);
    inject_capability capability = {sizeof(inject_capability), 0, "hwpoison-inject", NULL};
    /* corrupt-pfn is write-only: a permission error still proves it exists. */
    capability.available = rc == INJECT_OK || rc == INJECT_E_PERMISSION || rc == INJECT_E_TOO_LARGE;
    capability.detail = capability.available ? "/sys/kernel/debug/hwpoison" : "missing: modprobe hwpoison-inject";
    return host->report_capability(call, &capability);
}

static int32_t plan(void *state, inject_call *call, const inject_param_value *values, uint32_t count) {
    (void)state;
    uint64_t pfn = 0;
    const char *action = "corrupt";
    for (uint32_t i = 0; i < count; i++) {
        if (strcmp(values[i].name, "pfn") == 0) pfn = values[i].number;
        if (strcmp(values[i].name, "action") == 0 && values[i].is_set) action = values[i].text;
    }
    char value[32];
    snprintf(value, sizeof value, "0x%llx", (unsigned long long)pfn);
    int corrupt = strcmp(action, "corrupt") == 0;

    inject_step step;
    memset(&step, 0, sizeof step);
    step.struct_size = sizeof step;
    step.kind = INJECT_STEP_WRITE_ATTRIBUTE;
    step.flags = INJECT_STEP_TRIGGER;
    step.path = corrupt ? "sys/kernel/debug/hwpoison/corrupt-pfn" : "sys/kernel/debug/hwpoison/unpoison-pfn";
    step.value = value;
    step.note = corrupt ? "the kernel handles the page as a memory failure" : "the kernel returns the page";
    step.hint = "modprobe hwpoison-inject; mount -t debugfs none /sys/kernel/debug";
    int32_t rc = host->add_step(call, &step);
    if (rc != INJECT_OK) return rc;

    if (corrupt) {
        char match[64];
        snprintf(match, sizeof match, "pfn=0x%llx", (unsigned long long)pfn);
        inject_expectation event = {sizeof(inject_expectation), INJECT_EXPECT_TRACE_EVENT,
                                    "ras:memory_failure_event", match, 0, NULL};
        rc = host->expect(call, &event);
        if (rc != INJECT_OK) return rc;
        return host->require_confirmation(call, "poisoning a page takes it away from the running system");
    }
    return INJECT_OK;
}

static const inject_plugin_descriptor descriptor = {
    sizeof(inject_plugin_descriptor), INJECT_ABI_MAJOR, INJECT_ABI_MINOR,
    "example-hwpoison", "1.0.0", "Example C plugin: poison a page frame through hwpoison-inject",
    families, 2, 2, params, probe, plan, NULL,
};

INJECT_PLUGIN_EXPORT int32_t inject_plugin_entry(inject_entry *entry) {
    if (entry->host_abi_major != INJECT_ABI_MAJOR) {
        entry->error_code = INJECT_E_ABI;
        snprintf(entry->error_message, sizeof entry->error_message, "built for ABI %d.%d, host speaks %u.%u",
                 INJECT_ABI_MAJOR, INJECT_ABI_MINOR, entry->host_abi_major, entry->host_abi_minor);
        return INJECT_E_ABI;
    }
    host = entry->host;
    entry->descriptor = &descriptor;
    return INJECT_OK;
}
