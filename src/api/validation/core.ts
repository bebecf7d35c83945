// The core ("") group: which validator each kind uses, plus the small kinds (Namespace,
// ServiceAccount, Event).
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { configMapValidator, secretValidator } from './config.js';
import type { KindValidator } from './kind.js';
import { endpointsValidator, nodeValidator } from './network.js';
import { podValidator } from './pod.js';
import { serviceValidator } from './service.js';
import { obj, str, strList, type Obj } from './shape.js';
import { persistentVolumeClaimValidator, persistentVolumeValidator } from './storage.js';
import { isDNS1123Subdomain, isQualifiedName, nameIsDNSLabel, nameIsDNSSubdomain, pathSegmentNameErrors } from './strings.js';

const namespaceValidator: KindValidator = {
  name: nameIsDNSLabel,
  spec(o, errs) {
    const spec = obj(o.spec, 'spec', errs) ?? {};
    // Upstream reports namespace finalizers at the list path, without an index.
    for (const f of strList(spec.finalizers, 'spec.finalizers', errs)) {
      isQualifiedName(f).forEach((m) => errs.push(field.invalid('spec.finalizers', f, m)));
      if (!f.includes('/') && !['kubernetes', 'orphan', 'foregroundDeletion'].includes(f)) {
        errs.push(field.invalid('spec.finalizers', f, 'name is neither a standard finalizer name nor is it fully qualified'));
      }
    }
  },
};

const serviceAccountValidator: KindValidator = { name: nameIsDNSSubdomain, spec: () => undefined };

/** Events carry no name rule of their own: only the path-segment rule every object meets. */
const eventValidator: KindValidator = {
  name: (name) => pathSegmentNameErrors(name),
  spec(o: KubeObject, errs: FieldError[]) {
    const involved = obj(o.involvedObject, 'involvedObject', errs) ?? {};
    const ns = o.metadata?.namespace ?? '';
    const ins = str(involved.namespace, 'involvedObject.namespace', errs) ?? '';
    if (!o.eventTime) {
      if (!ins) {
        if (ns !== '' && ns !== 'default') errs.push(field.invalid('involvedObject.namespace', ins, 'does not match event.namespace'));
      } else if (ns !== ins) errs.push(field.invalid('involvedObject.namespace', ins, 'does not match event.namespace'));
    } else {
      if (!ins && ns !== 'default' && ns !== 'kube-system') errs.push(field.invalid('involvedObject.namespace', ins, 'does not match event.namespace'));
      const controller = str(o.reportingComponent, 'reportingComponent', errs) ?? '';
      if (!controller) errs.push(field.required('reportingComponent'));
      isQualifiedName(controller).forEach((m) => errs.push(field.invalid('reportingComponent', controller, m)));
      const limits: [string, number][] = [['reportingInstance', 128], ['action', 128], ['reason', 128]];
      for (const [f, max] of limits) {
        const v = typeof (o as Obj)[f] === 'string' ? ((o as Obj)[f] as string) : '';
        if (!v) errs.push(field.required(f));
        if (v.length > max) errs.push(field.invalid(f, '', `can have at most ${max} characters`));
      }
      const note = typeof o.message === 'string' ? o.message : '';
      if (note.length > 1024) errs.push(field.invalid('message', '', 'can have at most 1024 characters'));
    }
    isDNS1123Subdomain(ns).forEach((m) => errs.push(field.invalid('namespace', ns, m)));
  },
};

/** Validators of the core group, by kind. */
export const CORE_VALIDATORS: Record<string, KindValidator> = {
  Pod: podValidator,
  Service: serviceValidator,
  Endpoints: endpointsValidator,
  ConfigMap: configMapValidator,
  Secret: secretValidator,
  Namespace: namespaceValidator,
  Node: nodeValidator,
  ServiceAccount: serviceAccountValidator,
  PersistentVolume: persistentVolumeValidator,
  PersistentVolumeClaim: persistentVolumeClaimValidator,
  Event: eventValidator,
};
