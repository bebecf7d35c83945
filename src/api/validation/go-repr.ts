// Go's %#v rendering of the few composite values kube-apiserver 1.32 puts in validation
// messages, so that users see the same text as on a real cluster, e.g.
//   spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable
import { isObject } from '../types.js';

const q = (s: string): string => JSON.stringify(s);

/** map[string]string{"a":"b"} with sorted keys; `(nil)` when absent, `{}` when empty. */
export function goStringMap(m: unknown): string {
  if (!isObject(m)) return 'map[string]string(nil)';
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${q(k)}:${q(String(m[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

export function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return '[]string(nil)';
  return `[]string{${v.map((x) => q(String(x))).join(', ')}}`;
}

/** A metav1.LabelSelector as the internal validation code holds it. */
export function goLabelSelector(sel: unknown): string {
  const s = isObject(sel) ? sel : {};
  const exprs = Array.isArray(s.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map((e) => {
          const r = isObject(e) ? e : {};
          return `v1.LabelSelectorRequirement{Key:${q(String(r.key ?? ''))}, Operator:${q(String(r.operator ?? ''))}, Values:${goStringSlice(r.values)}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** intstr.IntOrString{Type:0, IntVal:1, StrVal:""} (Type 1 for strings). */
export function goIntOrString(v: unknown): string {
  if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${q(v)}}`;
  return `intstr.IntOrString{Type:0, IntVal:${typeof v === 'number' ? v : 0}, StrVal:""}`;
}

/** A strategy struct with a type and an optional rolling-update pointer, e.g. apps.DeploymentStrategy. */
export function goStrategy(goType: string, rollingType: string, strategy: unknown): string {
  const s = isObject(strategy) ? strategy : {};
  // A non-nil pointer prints as its address upstream; there is no address to show here.
  const ru = s.rollingUpdate === undefined || s.rollingUpdate === null ? `(*${rollingType})(nil)` : `(*${rollingType})(0xc000000000)`;
  return `${goType}{Type:${q(String(s.type ?? ''))}, RollingUpdate:${ru}}`;
}

/** Go's time.Time String() for an RFC 3339 timestamp: "2024-05-01 10:00:00 +0000 UTC". */
export function goTime(v: unknown): string {
  if (typeof v !== 'string') return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}
