#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: inject developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: inject
short_description: Probe, inject, run campaigns and coverage with inject on the managed host
version_added: "0.1.0"
description:
  - Runs C(inject probe), C(inject run), C(inject campaign) or C(inject coverage) with C(--json) on
    the managed host and returns the tool's structured result (the plan, the steps that ran, the
    kernel events seen and missed, the outcome, and where the journal stands).
  - Before a C(run), the request's parameters are checked against the backend's own schema with
    C(inject info BACKEND NAME=VALUE... --json); an unknown name or a value out of range fails the task
    with the tool's message and nothing is injected.
  - In check mode C(run) and C(campaign) are given C(--dry-run); nothing is injected and C(changed) is
    false. C(changed) is true only when something was injected.
  - A request the tool calls destructive (an uncorrected error, a panic) needs I(confirm=true), which
    passes C(--yes). Without it the task fails with the tool's reason (exit status 4).
options:
  command:
    description: What to run.
    type: str
    required: true
    choices: [probe, run, campaign, coverage]
  backend:
    description:
      - The backend (C(mce), C(ghes), C(edac), C(nmi), or a vendor's). Required for I(command=run);
        optional for I(command=probe) (all backends when omitted).
    type: str
  params:
    description: The request's parameters, as the tool's C(name=value) words.
    type: dict
    default: {}
  scenario:
    description: The campaign scenario file on the managed host (I(command=campaign)).
    type: path
  junit:
    description: Where the campaign writes its JUnit report on the managed host (I(command=campaign)).
    type: path
  coverage_run:
    description: With I(command=coverage), also inject each backend's default request and verify it (C(--run)).
    type: bool
    default: false
  verify:
    description: With I(command=run), wait for the kernel events the plan declares and report them (C(--verify)).
    type: bool
    default: false
  confirm:
    description: Confirm a destructive request (the tool's C(--yes)).
    type: bool
    default: false
  root:
    description: The root under which attribute files are resolved (C(--root)); for test trees.
    type: path
  lab:
    description: A running C(inject lab) on the managed host as the target (C(--lab)).
    type: str
  plugin_path:
    description: Plugin directories or files searched first (C(--plugin-path)).
    type: list
    elements: path
    default: []
  journal:
    description: The journal file (C(--journal)); the tool's default when omitted.
    type: path
  executable:
    description: The C(inject) executable.
    type: path
    default: inject
notes:
  - Exit statuses of the tool are returned in C(rc); 5 means the injection ran but expected kernel
    events were missed (with I(verify) or a campaign), and the task fails.
author:
  - inject developers
'''

EXAMPLES = r'''
- name: What can this machine do
  inject.ras.inject:
    command: probe

- name: One corrected machine check on CPU 0, bank 1, verified against the kernel's report
  inject.ras.inject:
    command: run
    backend: mce
    params: {cpu: 0, bank: 1}
    verify: true

- name: An uncorrected error needs the explicit confirmation
  inject.ras.inject:
    command: run
    backend: mce
    params: {cpu: 0, bank: 1, severity: uncorrected}
    confirm: true

- name: A campaign with its JUnit report
  inject.ras.inject:
    command: campaign
    scenario: /etc/inject/scenarios/storm.json
    junit: /var/tmp/inject-junit.xml
'''

RETURN = r'''
rc:
  description: The tool's exit status.
  returned: always
  type: int
  sample: 0
cmd:
  description: The command line that ran.
  returned: always
  type: list
  elements: str
result:
  description: The tool's JSON output (a plan with its results and verification for C(run), the steps
    for C(campaign), capability reports for C(probe), rows for C(coverage)).
  returned: when the tool printed JSON
  type: raw
injected:
  description: How many injections ran.
  returned: always
  type: int
  sample: 1
events_seen:
  description: Expected kernel events that were seen (with I(verify) or a campaign).
  returned: always
  type: int
events_missing:
  description: Expected kernel events that were not seen, each as the tool describes it.
  returned: always
  type: list
  elements: str
journal:
  description: The journal file and how many records it holds after the task.
  returned: when a journal was written
  type: dict
  sample: {path: /var/log/inject/journal.jsonl, records: 42}
stderr:
  description: What the tool wrote to standard error (its messages and plugin output).
  returned: always
  type: str
'''

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule


def global_options(params):
    """The tool's options shared by every command, from the module's parameters."""
    words = []
    if params['root']:
        words += ['--root', params['root']]
    if params['lab']:
        words += ['--lab', params['lab']]
    for path in params['plugin_path']:
        words += ['--plugin-path', path]
    if params['journal']:
        words += ['--journal', params['journal']]
    return words


PARAMETER_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_-]{0,63}$')


def bad_parameter_names(params):
    """Names in `params` that are not parameter names (a flag such as --no-journal is not one)."""
    return [name for name in sorted(params['params']) if not PARAMETER_NAME.match(str(name))]


def assignments(params):
    """The request's parameters as name=value words, in a stable order."""
    words = []
    for name in sorted(params['params']):
        value = params['params'][name]
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        words.append('%s=%s' % (name, value))
    return words


def last_line(text):
    lines = [line for line in (text or '').splitlines() if line.strip()]
    return lines[-1] if lines else ''


def count_lines(path):
    try:
        with open(path, 'rb') as handle:
            return sum(1 for _ in handle)
    except (IOError, OSError):
        return None


def first_step_error(result):
    """A campaign's first failing step's first error (its stderr ends with progress, not the reason)."""
    if not isinstance(result, dict):
        return None
    for step in result.get('steps') or []:
        if isinstance(step, dict) and step.get('firstError'):
            return '%s: %s' % (step.get('name', 'step'), step['firstError'])
    return None


def summarize(command, result):
    """Injections, events seen and events missing, from the tool's JSON."""
    injected, seen, missing = 0, 0, []
    if command == 'run' and isinstance(result, dict) and not result.get('dryRun', False):
        injected = 1 if result.get('results') else 0
        for finding in result.get('verification') or []:
            if finding.get('matched'):
                seen += 1
            else:
                missing.append('%s %s' % (finding.get('kind', ''), finding.get('expected', '')))
    elif command == 'campaign' and isinstance(result, dict):
        for step in result.get('steps') or []:
            injected += int(step.get('injected', 0))
            seen += int(step.get('seenEvents', 0))
            gap = int(step.get('expectedEvents', 0)) - int(step.get('seenEvents', 0))
            if gap > 0:
                missing.append('%s: %d expected event(s) not seen' % (step.get('name', ''), gap))
    elif command == 'coverage' and isinstance(result, list):
        for row in result:
            if row.get('path') == 'default injection' and row.get('state') in ('PASS', 'FAIL'):
                injected += 1
                if row.get('state') == 'FAIL':
                    missing.append('%s: %s' % (row.get('backend', ''), row.get('reason', '')))
    return injected, seen, missing


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type='str', required=True, choices=['probe', 'run', 'campaign', 'coverage']),
            backend=dict(type='str'),
            params=dict(type='dict', default={}),
            scenario=dict(type='path'),
            junit=dict(type='path'),
            coverage_run=dict(type='bool', default=False),
            verify=dict(type='bool', default=False),
            confirm=dict(type='bool', default=False),
            root=dict(type='path'),
            lab=dict(type='str'),
            plugin_path=dict(type='list', elements='path', default=[]),
            journal=dict(type='path'),
            executable=dict(type='path', default='inject'),
        ),
        required_if=[('command', 'run', ['backend']), ('command', 'campaign', ['scenario'])],
        supports_check_mode=True,
    )
    p = module.params
    command = p['command']
    executable = p['executable']
    if os.path.sep not in executable:
        executable = module.get_bin_path(executable, required=True)
    options = global_options(p)

    bad = bad_parameter_names(p)
    if bad:
        # A key like "--no-journal" would become a flag of the tool, not a parameter of the backend.
        module.fail_json(msg='params names %s: a parameter name is a letter followed by letters, digits, _ or -'
                         ' (the backend\'s schema: inject info BACKEND); the tool\'s options are the module\'s own'
                         % ', '.join(repr(name) for name in bad), changed=False, injected=0, events_seen=0,
                         events_missing=[])
    if command == 'run':
        # The tool's own schema decides, before anything is injected.
        check = [executable, 'info', p['backend']] + assignments(p) + options + ['--json']
        rc, out, err = module.run_command(check)
        if rc != 0:
            module.fail_json(msg='invalid request: %s' % (last_line(err) or 'inject info exited %d' % rc),
                             rc=rc, cmd=check, stderr=err, changed=False, injected=0, events_seen=0, events_missing=[])

    words = [executable, command]
    dry = module.check_mode and command in ('run', 'campaign')
    if command == 'probe' and p['backend']:
        words.append(p['backend'])
    elif command == 'run':
        words += [p['backend']] + assignments(p)
        if p['verify']:
            words.append('--verify')
    elif command == 'campaign':
        words.append(p['scenario'])
        if p['junit']:
            words += ['--junit', p['junit']]
    elif command == 'coverage' and p['coverage_run'] and not module.check_mode:
        words.append('--run')
    if p['confirm'] and command in ('run', 'campaign'):
        words.append('--yes')
    if dry:
        words.append('--dry-run')
    words += options + ['--json']

    rc, out, err = module.run_command(words)
    result = None
    if out.strip():
        try:
            result = json.loads(out)
        except ValueError:
            module.fail_json(msg='inject printed something that is not JSON', rc=rc, cmd=words, stdout=out, stderr=err)
    injected, seen, missing = summarize(command, result)
    outcome = dict(rc=rc, cmd=words, result=result, injected=injected, events_seen=seen, events_missing=missing,
                   stderr=err, changed=injected > 0 and not dry)
    journal = p['journal'] or (isinstance(result, dict) and result.get('journal')) or None
    if journal:
        outcome['journal'] = dict(path=journal, records=count_lines(journal))
    # coverage exits 1 when a row failed; its rows say which, so the report shows them.
    if rc != 0 and not (command == 'coverage' and rc == 1 and result is not None):
        module.fail_json(msg=first_step_error(result) or last_line(err) or 'inject %s exited %d' % (command, rc),
                         **outcome)
    module.exit_json(**outcome)


if __name__ == '__main__':
    main()
