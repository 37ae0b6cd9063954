#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: inject developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: fleet_report
short_description: One report from what inject did on each host of a fleet
version_added: "0.1.0"
description:
  - Reads, for each host, the C(result.json) the C(inject.ras.fleet) playbook fetched (the host's
    coverage rows and the outcome of each requested backend) and its campaign C(junit.xml) if any,
    and writes one report (per host and backend PASS, FAIL or N/A with the reason), as text and JSON,
    and one merged JUnit file. Where a host ran a campaign, a row C(campaign) says whether it ran
    (FAIL with the tool's message when it did not start or an injection failed).
  - Runs where the files are (the controller, with C(delegate_to) or a C(localhost) play).
options:
  directory:
    description: The directory holding one subdirectory per host, each with C(result.json) and optionally C(junit.xml).
    type: path
    required: true
  backends:
    description: The backends to report, in order (every backend seen when empty, then C(campaign) where one ran).
    type: list
    elements: str
    default: []
  output:
    description: Where the report files are written (C(fleet-report.txt), C(fleet-report.json), C(fleet-junit.xml)); I(directory) when omitted.
    type: path
author:
  - inject developers
'''

EXAMPLES = r'''
- name: Write the fleet report
  inject.ras.fleet_report:
    directory: ./fleet-report
    backends: [mce, ghes]
'''

RETURN = r'''
hosts:
  description: Per host, per backend, the state (PASS, FAIL, N/A) and the reason.
  returned: always
  type: dict
  sample: {node1: {mce: {state: PASS, reason: "1 injection"}}}
counts:
  description: How many host-backend pairs are PASS, FAIL and N/A.
  returned: always
  type: dict
  sample: {PASS: 2, FAIL: 0, "N/A": 1}
files:
  description: The report files written.
  returned: always
  type: list
  elements: str
'''

import json
import os
import xml.etree.ElementTree as ElementTree

from ansible.module_utils.basic import AnsibleModule


def campaign_state(result):
    """PASS or FAIL with its reason for a host's campaign, N/A where it ran none."""
    outcome = result.get('campaign_outcome')
    if outcome is None:
        return 'N/A', 'no campaign'
    if outcome.get('failed'):
        return 'FAIL', outcome.get('msg') or 'the campaign failed'
    steps = (result.get('campaign') or {}).get('steps') or []
    injected = sum(step.get('injected') or 0 for step in steps)
    failed = sum(step.get('failed') or 0 for step in steps)
    if failed:
        return 'FAIL', '%d of %d injection(s) failed' % (failed, injected + failed)
    return 'PASS', '%d step(s), %d injection(s)' % (len(steps), injected)


def backend_state(result, backend):
    """PASS, FAIL or N/A with its reason, for one backend on one host (the row 'campaign': its campaign)."""
    if backend == 'campaign':
        return campaign_state(result)
    run = (result.get('runs') or {}).get(backend)
    if run is None:
        return 'N/A', 'not requested'
    if run.get('skipped'):
        return 'N/A', run.get('reason') or 'not available on this host'
    if run.get('failed'):
        return 'FAIL', run.get('msg') or 'exit %s' % run.get('rc')
    missing = run.get('events_missing') or []
    if missing:
        return 'FAIL', 'missed: ' + '; '.join(missing)
    seen = run.get('events_seen') or 0
    return 'PASS', '%d injection(s)%s' % (run.get('injected') or 0, ', %d event(s) seen' % seen if seen else '')


def merged_junit(hosts, states, directory):
    """One testsuites document: the host-backend states, then each host's own campaign suites."""
    root = ElementTree.Element('testsuites', name='inject fleet')
    for host in hosts:
        suite = ElementTree.SubElement(root, 'testsuite', name='%s backends' % host)
        failures = skipped = 0
        for backend, (state, reason) in states[host].items():
            case = ElementTree.SubElement(suite, 'testcase', classname=host, name=backend)
            if state == 'FAIL':
                failures += 1
                ElementTree.SubElement(case, 'failure', message=reason)
            elif state == 'N/A':
                skipped += 1
                ElementTree.SubElement(case, 'skipped', message=reason)
        suite.set('tests', str(len(states[host])))
        suite.set('failures', str(failures))
        suite.set('skipped', str(skipped))
        junit = os.path.join(directory, host, 'junit.xml')
        if os.path.exists(junit):
            parsed = ElementTree.parse(junit).getroot()
            for own in ([parsed] if parsed.tag == 'testsuite' else list(parsed.iter('testsuite'))):
                own.set('name', '%s: %s' % (host, own.get('name', 'campaign')))
                root.append(own)
    return ElementTree.tostring(root, encoding='unicode')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directory=dict(type='path', required=True),
            backends=dict(type='list', elements='str', default=[]),
            output=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    directory = module.params['directory']
    output = module.params['output'] or directory
    if not os.path.isdir(directory):
        module.fail_json(msg='%s is not a directory (the playbook fetches each host\'s result.json there)' % directory)
    results = {}
    for host in sorted(os.listdir(directory)):
        path = os.path.join(directory, host, 'result.json')
        if os.path.isfile(path):
            with open(path) as handle:
                try:
                    results[host] = json.load(handle)
                except ValueError as error:
                    module.fail_json(msg='%s: not JSON: %s' % (path, error))
    if not results:
        module.fail_json(msg='no host results under %s' % directory)
    backends = list(module.params['backends'])
    if not backends:
        for result in results.values():
            for name in (result.get('runs') or {}):
                if name not in backends:
                    backends.append(name)
        if any(result.get('campaign_outcome') is not None for result in results.values()):
            backends.append('campaign')
    states = {}
    for host, result in results.items():
        states[host] = dict((backend, backend_state(result, backend)) for backend in backends)
    counts = {'PASS': 0, 'FAIL': 0, 'N/A': 0}
    for host in states:
        for state, _ in states[host].values():
            counts[state] += 1

    width = max(len(host) for host in states)
    lines = ['%-*s  %-10s %-5s %s' % (width, 'HOST', 'BACKEND', 'STATE', 'REASON')]
    for host in sorted(states):
        for backend in backends:
            state, reason = states[host][backend]
            lines.append('%-*s  %-10s %-5s %s' % (width, host, backend, state, reason))
    lines.append('%d host(s): %d PASS, %d FAIL, %d N/A' % (len(states), counts['PASS'], counts['FAIL'], counts['N/A']))
    report = dict((host, dict((backend, dict(state=s, reason=r)) for backend, (s, r) in states[host].items())) for host in states)
    files = [os.path.join(output, name) for name in ('fleet-report.txt', 'fleet-report.json', 'fleet-junit.xml')]
    if not module.check_mode:
        if not os.path.isdir(output):
            os.makedirs(output)
        contents = ['\n'.join(lines) + '\n', json.dumps(dict(hosts=report, counts=counts), indent=2, sort_keys=True) + '\n',
                    merged_junit(sorted(states), states, directory) + '\n']
        for path, text in zip(files, contents):
            temporary = path + '.new'
            with open(temporary, 'w') as handle:
                handle.write(text)
            os.rename(temporary, path)
    module.exit_json(changed=not module.check_mode, hosts=report, counts=counts, files=files, report='\n'.join(lines))


if __name__ == '__main__':
    main()
