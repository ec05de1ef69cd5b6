// Usage: node check_template.mjs TEMPLATE.json [TEMPLATE2.json ...]
//
// Static checker for the CloudFormation templates zflow emits. It needs no AWS account and
// no network: resource types, properties and attributes come from the CloudFormation
// resource specification database shipped in the npm package @aws-cdk/aws-service-spec
// (pinned in tests/package.json), the same database the AWS CDK generates its L1 classes
// from.
//
// For every template it checks
//   - the template's shape: known top-level sections, logical IDs, parameter types,
//     resource attributes (DependsOn, Condition, DeletionPolicy...) and outputs;
//   - each resource Type exists in the spec, and each property exists for that type, has
//     the spec's type (recursively through nested property types, lists and maps), takes
//     one of the spec's allowed values where the spec lists them, and every required
//     property is present;
//   - intrinsic functions: their argument shapes; that Ref and ${X} in Fn::Sub name a
//     parameter, a resource or a pseudo parameter; that Fn::GetAtt and ${Res.Attr} name an
//     attribute the resource type has; that Fn::If names a declared condition; that an
//     intrinsic's result fits where it is used (a Fn::Sub string is no list);
//   - IAM policy documents (AWS::IAM::Role trust and inline policies, AWS::IAM::Policy,
//     ManagedPolicy and friends): every action is a literal "service:Action" with no
//     wildcard in an Allow statement, no Allow + NotAction, and iam:PassRole is never
//     granted on Resource "*";
//   - AWS::StepFunctions::StateMachine: exactly one definition source, and every ${Name}
//     placeholder in the definition has a DefinitionSubstitutions entry.
//
// Output: one line per problem, "TEMPLATE: Resources.X.Properties.Y: message". Warnings
// (deprecated properties, unused substitutions...) read "TEMPLATE: WHERE: warning: message"
// and do not fail the run. Exit status: 0 and a final "ok: N resources checked" when no
// template has an error; 1 when any does (or cannot be read or parsed); 2 on a usage error.
//
// YAML templates (with the !Ref / !Sub ... short forms) are accepted when the npm package
// "yaml" is resolvable from here; it is not a direct dependency, so without it only JSON
// templates can be read.
//
// There is deliberately no third-party linter pass. The only CloudFormation linter on npm,
// cfn-lint (martysweet, 1.9.7, retired upstream), bundles the 2019 resource specification
// 2.29.0: it knows none of AWS::Scheduler::Schedule, AWS::StepFunctions::StateMachineVersion
// or StateMachineAlias, and rejects Definition, LoggingConfiguration and StateMachineType on
// AWS::StepFunctions::StateMachine, i.e. it reports false errors on every zflow template.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------
// CloudFormation vocabulary that is not part of the resource spec.

const TOP_LEVEL_SECTIONS = new Set([
  'AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Rules', 'Mappings',
  'Conditions', 'Transform', 'Resources', 'Outputs',
]);

const RESOURCE_KEYS = new Set([
  'Type', 'Properties', 'DependsOn', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy',
  'UpdatePolicy', 'CreationPolicy', 'Metadata',
]);

const DELETION_POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);
const UPDATE_REPLACE_POLICIES = new Set(['Delete', 'Retain', 'Snapshot']);

const OUTPUT_KEYS = new Set(['Description', 'Value', 'Export', 'Condition']);

// Pseudo parameters and whether Ref to them yields a list.
const PSEUDO_PARAMETERS = new Map([
  ['AWS::AccountId', 'scalar'],
  ['AWS::NotificationARNs', 'list'],
  ['AWS::NoValue', 'novalue'],
  ['AWS::Partition', 'scalar'],
  ['AWS::Region', 'scalar'],
  ['AWS::StackId', 'scalar'],
  ['AWS::StackName', 'scalar'],
  ['AWS::URLSuffix', 'scalar'],
]);

const PLAIN_PARAMETER_TYPES = new Set(['String', 'Number', 'List<Number>', 'CommaDelimitedList']);

// Functions that may only appear in the Conditions section (and inside each other).
const CONDITION_FUNCTIONS = new Set(['Fn::And', 'Fn::Equals', 'Fn::Not', 'Fn::Or']);

// Functions that exist only under the AWS::LanguageExtensions transform.
const LANGUAGE_EXTENSION_FUNCTIONS = new Set(['Fn::Length', 'Fn::ToJsonString', 'Fn::ForEach']);

// What kind of value an intrinsic function yields, for the functions whose result kind does
// not depend on their arguments. 'any' means "cannot tell statically".
const INTRINSIC_RESULT = new Map([
  ['Fn::Base64', 'scalar'], ['Fn::Join', 'scalar'], ['Fn::Sub', 'scalar'],
  ['Fn::ToJsonString', 'scalar'], ['Fn::Length', 'scalar'],
  ['Fn::Split', 'list'], ['Fn::GetAZs', 'list'], ['Fn::Cidr', 'list'],
  ['Fn::Select', 'any'], ['Fn::FindInMap', 'any'], ['Fn::ImportValue', 'any'],
  ['Fn::Transform', 'any'],
]);

// Where IAM policy documents live, per resource type: [property path, is-trust-policy].
// '[]' in a path means "every element of this list".
const IAM_POLICY_LOCATIONS = new Map([
  ['AWS::IAM::Role', [[['AssumeRolePolicyDocument'], true], [['Policies', '[]', 'PolicyDocument'], false]]],
  ['AWS::IAM::User', [[['Policies', '[]', 'PolicyDocument'], false]]],
  ['AWS::IAM::Group', [[['Policies', '[]', 'PolicyDocument'], false]]],
  ['AWS::IAM::Policy', [[['PolicyDocument'], false]]],
  ['AWS::IAM::ManagedPolicy', [[['PolicyDocument'], false]]],
  ['AWS::IAM::RolePolicy', [[['PolicyDocument'], false]]],
  ['AWS::IAM::UserPolicy', [[['PolicyDocument'], false]]],
  ['AWS::IAM::GroupPolicy', [[['PolicyDocument'], false]]],
]);

// "service:Action" with a literal action name: no '*' or '?' anywhere.
const IAM_ACTION = /^[a-zA-Z0-9][a-zA-Z0-9-]*:[a-zA-Z0-9]+$/;

const LOGICAL_ID = /^[A-Za-z0-9]+$/;

// ---------------------------------------------------------------------------------------
// Small helpers.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

// The intrinsic function an object stands for ({"Ref": ...} or {"Fn::X": ...}), or null.
// {"Condition": ...} counts only where condition expressions are expected.
function intrinsicName(v, { conditionContext = false } = {}) {
  if (!isObject(v)) return null;
  const keys = Object.keys(v);
  if (keys.length !== 1) return null;
  const [k] = keys;
  if (k === 'Ref' || k.startsWith('Fn::')) return k;
  if (conditionContext && k === 'Condition') return k;
  return null;
}

function describeValue(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  return `the ${typeof v} ${JSON.stringify(v)}`;
}

// Closest candidate to a misspelt name, for "did you mean" hints.
function suggest(name, candidates) {
  const lower = name.toLowerCase();
  let best = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const c of candidates) {
    if (c.toLowerCase() === lower) return c;
    if (Math.abs(c.length - name.length) >= bestDistance) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best;
}

function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

const hint = (name, candidates) => {
  const s = suggest(name, candidates);
  return s ? ` (did you mean ${s}?)` : '';
};

// "Resources.X.Properties.Policies[0].PolicyDocument"
function formatWhere(where) {
  let out = '';
  for (const seg of where) out += typeof seg === 'number' ? `[${seg}]` : (out ? `.${seg}` : seg);
  return out;
}

// ---------------------------------------------------------------------------------------
// The resource specification.

class Spec {
  constructor() {
    const { loadAwsServiceSpecSync } = require('@aws-cdk/aws-service-spec');
    this.db = loadAwsServiceSpecSync();
    this.types = this.db.all('resource').map((r) => r.cloudFormationType);
  }

  resource(cfnType) {
    return this.db.lookup('resource', 'cloudFormationType', 'equals', cfnType)[0];
  }

  typeDefinition(reference) {
    return this.db.get('typeDefinition', reference);
  }

  // "a string", "an integer", "a list of LogDestination objects", "a string or a JSON value"...
  describe(type) {
    if (type.type === 'union') return type.types.map((t) => this.describe(t)).join(' or ');
    const noun = this.noun(type);
    return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
  }

  noun(type) {
    switch (type.type) {
      case 'array': return `list of ${this.plural(type.element)}`;
      case 'map': return `map of ${this.plural(type.element)}`;
      case 'union': return type.types.map((t) => this.noun(t)).join(' or ');
      case 'ref': return `${this.typeDefinition(type.reference).name} object`;
      case 'tag': return 'Tag object {Key, Value}';
      case 'json': return 'JSON value';
      case 'date-time': return 'date-time string';
      default: return type.type;
    }
  }

  plural(type) {
    switch (type.type) {
      case 'union': return `(${type.types.map((t) => this.plural(t)).join(' or ')})`;
      case 'ref': return `${this.typeDefinition(type.reference).name} objects`;
      case 'tag': return 'Tag objects {Key, Value}';
      case 'json': return 'JSON values';
      default: return `${this.noun(type)}s`;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Checking one template.

class TemplateChecker {
  constructor(spec, template) {
    this.spec = spec;
    this.t = template;
    this.problems = []; // {where: [...], message, warning}
  }

  error(where, message) { this.problems.push({ where, message, warning: false }); }
  warn(where, message) { this.problems.push({ where, message, warning: true }); }

  run() {
    const t = this.t;
    if (!isObject(t)) { this.error([], 'a template must be a JSON/YAML object'); return; }
    for (const k of Object.keys(t)) {
      if (!TOP_LEVEL_SECTIONS.has(k)) this.error([k], `unknown top-level section${hint(k, TOP_LEVEL_SECTIONS)}`);
    }
    if (has(t, 'AWSTemplateFormatVersion') && t.AWSTemplateFormatVersion !== '2010-09-09') {
      this.error(['AWSTemplateFormatVersion'], 'the only template format version is "2010-09-09"');
    }
    for (const section of ['Parameters', 'Mappings', 'Conditions', 'Resources', 'Outputs']) {
      if (has(t, section) && !isObject(t[section])) this.error([section], 'must be an object');
    }
    this.parameters = isObject(t.Parameters) ? t.Parameters : {};
    this.conditions = isObject(t.Conditions) ? t.Conditions : {};
    this.mappings = isObject(t.Mappings) ? t.Mappings : {};
    this.resources = isObject(t.Resources) ? t.Resources : {};
    const transforms = t.Transform === undefined ? [] : [t.Transform].flat();
    this.transforms = new Set(transforms.filter((x) => typeof x === 'string'));

    if (Object.keys(this.resources).length === 0) this.error(['Resources'], 'a template needs at least one resource');

    this.checkParameters();
    this.checkConditions();
    for (const [name, resource] of Object.entries(this.resources)) this.checkResource(name, resource);
    this.checkOutputs();
  }

  // --- sections ---------------------------------------------------------------------

  checkParameters() {
    for (const [name, p] of Object.entries(this.parameters)) {
      const where = ['Parameters', name];
      this.checkLogicalId(where, name);
      if (has(this.resources, name)) this.error(where, `name is also used by a resource`);
      if (!isObject(p)) { this.error(where, 'must be an object'); continue; }
      if (typeof p.Type !== 'string') { this.error(where, 'missing Type'); continue; }
      if (!isParameterType(p.Type)) this.error([...where, 'Type'], `unknown parameter type ${JSON.stringify(p.Type)}`);
      if (has(p, 'Default') && Array.isArray(p.AllowedValues)
          && !p.AllowedValues.some((v) => String(v) === String(p.Default))) {
        this.error([...where, 'Default'], `default ${JSON.stringify(p.Default)} is not among AllowedValues`);
      }
    }
  }

  checkConditions() {
    for (const [name, expr] of Object.entries(this.conditions)) {
      const where = ['Conditions', name];
      this.checkLogicalId(where, name);
      const fn = intrinsicName(expr, { conditionContext: true });
      if (!fn || !(CONDITION_FUNCTIONS.has(fn) || fn === 'Condition')) {
        this.error(where, 'a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or {"Condition": NAME}');
      }
      this.walkExpressions(expr, where, { inConditions: true, self: null });
    }
  }

  checkOutputs() {
    if (!has(this.t, 'Outputs') || !isObject(this.t.Outputs)) return;
    for (const [name, out] of Object.entries(this.t.Outputs)) {
      const where = ['Outputs', name];
      this.checkLogicalId(where, name);
      if (!isObject(out)) { this.error(where, 'must be an object'); continue; }
      for (const k of Object.keys(out)) {
        if (!OUTPUT_KEYS.has(k)) this.error([...where, k], `unknown output key${hint(k, OUTPUT_KEYS)}`);
      }
      if (!has(out, 'Value')) this.error(where, 'missing Value');
      if (has(out, 'Condition')) this.checkConditionName([...where, 'Condition'], out.Condition);
      if (has(out, 'Export') && !(isObject(out.Export) && has(out.Export, 'Name'))) {
        this.error([...where, 'Export'], 'Export must be an object with a Name');
      }
      this.walkExpressions(out.Value, [...where, 'Value'], { self: null });
      if (isObject(out.Export)) this.walkExpressions(out.Export.Name, [...where, 'Export', 'Name'], { self: null });
    }
  }

  checkLogicalId(where, name) {
    if (!LOGICAL_ID.test(name)) this.error(where, 'logical IDs must be alphanumeric (A-Za-z0-9)');
  }

  checkConditionName(where, name) {
    if (typeof name !== 'string') this.error(where, 'a condition name must be a string');
    else if (!has(this.conditions, name)) this.error(where, `unknown condition ${name}${hint(name, Object.keys(this.conditions))}`);
  }

  // --- resources --------------------------------------------------------------------

  checkResource(name, resource) {
    const where = ['Resources', name];
    this.checkLogicalId(where, name);
    if (!isObject(resource)) { this.error(where, 'must be an object'); return; }
    for (const k of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(k)) this.error([...where, k], `unknown resource attribute${hint(k, RESOURCE_KEYS)}`);
    }
    this.checkResourceAttributes(name, resource, where);

    const props = has(resource, 'Properties') ? resource.Properties : {};
    const propsWhere = [...where, 'Properties'];
    if (!isObject(props)) { this.error(propsWhere, 'Properties must be an object'); return; }
    this.walkExpressions(props, propsWhere, { self: name });

    if (typeof resource.Type !== 'string') { this.error(where, 'missing Type'); return; }
    const { spec, custom } = this.resourceSpec(resource.Type);
    if (!spec) {
      this.error([...where, 'Type'], `unknown resource type ${resource.Type}${hint(resource.Type, this.spec.types)}`);
      return;
    }
    if (spec.cloudFormationTransform && !this.transforms.has(spec.cloudFormationTransform)) {
      this.error([...where, 'Type'], `${resource.Type} needs Transform ${spec.cloudFormationTransform}`);
    }
    this.report(this.objectProblems(props, spec.properties, propsWhere, resource.Type, { open: custom }));

    const iamLocations = IAM_POLICY_LOCATIONS.get(resource.Type);
    if (iamLocations) {
      for (const [location, trust] of iamLocations) {
        for (const [doc, docWhere] of this.collect(props, location, propsWhere)) {
          this.checkPolicyDocument(doc, docWhere, trust);
        }
      }
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine') this.checkStateMachine(props, propsWhere);
  }

  // Custom resources (Custom::X) take the generic custom resource's spec plus any property.
  resourceSpec(type) {
    if (type.startsWith('Custom::')) {
      return { spec: this.spec.resource('AWS::CloudFormation::CustomResource'), custom: true };
    }
    return { spec: this.spec.resource(type), custom: type === 'AWS::CloudFormation::CustomResource' };
  }

  checkResourceAttributes(name, resource, where) {
    if (has(resource, 'DependsOn')) {
      const deps = [resource.DependsOn].flat();
      deps.forEach((d, i) => {
        const w = [...where, 'DependsOn', ...(Array.isArray(resource.DependsOn) ? [i] : [])];
        if (typeof d !== 'string') this.error(w, 'DependsOn must name resources');
        else if (d === name) this.error(w, 'a resource cannot depend on itself');
        else if (!has(this.resources, d)) this.error(w, `unknown resource ${d}${hint(d, Object.keys(this.resources))}`);
      });
    }
    if (has(resource, 'Condition')) this.checkConditionName([...where, 'Condition'], resource.Condition);
    if (has(resource, 'DeletionPolicy') && !DELETION_POLICIES.has(resource.DeletionPolicy)) {
      this.error([...where, 'DeletionPolicy'], `must be one of ${[...DELETION_POLICIES].join(', ')}`);
    }
    if (has(resource, 'UpdateReplacePolicy') && !UPDATE_REPLACE_POLICIES.has(resource.UpdateReplacePolicy)) {
      this.error([...where, 'UpdateReplacePolicy'], `must be one of ${[...UPDATE_REPLACE_POLICIES].join(', ')}`);
    }
  }

  report(problems) { this.problems.push(...problems); }

  // --- property types ---------------------------------------------------------------
  //
  // These functions return problems instead of reporting them, so that a union type can
  // try each of its members and keep the problems of the closest one only.

  objectProblems(obj, propSpecs, where, ownerName, { open = false } = {}) {
    const problems = [];
    for (const [key, value] of Object.entries(obj)) {
      const w = [...where, key];
      const prop = has(propSpecs, key) ? propSpecs[key] : undefined;
      if (!prop) {
        if (!open) problems.push({ where: w, message: `unknown property of ${ownerName}${hint(key, Object.keys(propSpecs))}` });
        continue;
      }
      if (prop.deprecated && prop.deprecated !== 'NONE') {
        problems.push({ where: w, message: 'property is deprecated', warning: true });
      }
      let found = this.typeProblems(value, prop.type, w);
      // A property whose type was widened or changed still accepts its previous types.
      if (found.some((p) => !p.warning) && (prop.previousTypes ?? []).some((t) => !this.typeProblems(value, t, w).some((p) => !p.warning))) {
        found = [];
      }
      problems.push(...found);
    }
    for (const [key, prop] of Object.entries(propSpecs)) {
      if (prop.required && !has(obj, key)) problems.push({ where, message: `missing required property ${key}` });
    }
    return problems;
  }

  typeProblems(value, type, where) {
    const fn = intrinsicName(value);
    if (fn) return this.intrinsicTypeProblems(fn, value[fn], type, where);
    const mismatch = () => [{ where, message: `expected ${this.spec.describe(type)}, got ${describeValue(value)}` }];
    if (value === null) return mismatch();

    switch (type.type) {
      case 'string':
      case 'date-time':
        // CloudFormation turns numbers and booleans into strings where a string is expected.
        if (isObject(value) || Array.isArray(value)) return mismatch();
        if (type.allowedValues && typeof value === 'string' && !type.allowedValues.includes(value)) {
          return [{ where, message: `${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}` }];
        }
        return [];
      case 'integer':
      case 'number': {
        const numeric = typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)));
        if (!numeric || (type.type === 'integer' && !Number.isInteger(Number(value)))) return mismatch();
        if (type.allowedValues && !type.allowedValues.includes(Number(value))) {
          return [{ where, message: `${value} is not one of ${type.allowedValues.join(', ')}` }];
        }
        return [];
      }
      case 'boolean':
        return typeof value === 'boolean' || (typeof value === 'string' && /^(true|false)$/i.test(value)) ? [] : mismatch();
      case 'json':
        return [];
      case 'null':
        return mismatch();
      case 'tag': {
        if (!isObject(value)) return mismatch();
        const string = { type: 'string' };
        return this.objectProblems(value, { Key: { type: string, required: true }, Value: { type: string, required: true } }, where, 'Tag');
      }
      case 'array':
        if (!Array.isArray(value)) return mismatch();
        return value.flatMap((element, i) => this.typeProblems(element, type.element, [...where, i]));
      case 'map':
        if (!isObject(value)) return mismatch();
        return Object.entries(value).flatMap(([k, v]) => this.typeProblems(v, type.element, [...where, k]));
      case 'ref': {
        if (!isObject(value)) return mismatch();
        const def = this.spec.typeDefinition(type.reference);
        // A few definitions carry no properties: they are free-form objects.
        if (Object.keys(def.properties).length === 0) return [];
        return this.objectProblems(value, def.properties, where, def.name);
      }
      case 'union':
        return this.unionProblems(value, type, where);
      default:
        return [{ where, message: `spec type ${type.type} is not understood by this checker`, warning: true }];
    }
  }

  unionProblems(value, type, where) {
    let best = null;
    for (const member of type.types) {
      const problems = this.typeProblems(value, member, where);
      const errors = problems.filter((p) => !p.warning).length;
      if (errors === 0) return problems;
      // Prefer the member of the same shape as the value (an object for an object...).
      const sameShape = Array.isArray(value) ? member.type === 'array'
        : isObject(value) ? ['ref', 'map', 'tag', 'json'].includes(member.type)
          : !['array', 'map', 'ref', 'tag'].includes(member.type);
      const score = (sameShape ? 0 : 1e6) + errors;
      if (!best || score < best.score) best = { score, problems, sameShape };
    }
    return best?.sameShape ? best.problems
      : [{ where, message: `expected ${this.spec.describe(type)}, got ${describeValue(value)}` }];
  }

  // Whether an intrinsic's result can stand where `type` is expected. Arguments were
  // already checked by walkExpressions; this only compares result kinds.
  intrinsicTypeProblems(fn, args, type, where) {
    if (fn === 'Fn::If' && Array.isArray(args) && args.length === 3) {
      return [1, 2].flatMap((i) => this.typeProblems(args[i], type, [...where, fn, i]));
    }
    const kind = this.intrinsicResult(fn, args);
    if (kind === 'any' || kind === 'novalue' || type.type === 'json') return [];
    if (type.type === 'union') {
      return type.types.some((t) => this.intrinsicTypeProblems(fn, args, t, where).length === 0) ? []
        : [{ where, message: `${fn} cannot yield ${this.spec.describe(type)}` }];
    }
    const wantsList = type.type === 'array';
    const wantsObject = ['map', 'ref', 'tag'].includes(type.type);
    if (wantsList && kind !== 'list') return [{ where, message: `${fn} yields a single value, but ${this.spec.describe(type)} is expected` }];
    if (wantsObject) return [{ where, message: `${fn} yields a ${kind === 'list' ? 'list' : 'single value'}, but ${this.spec.describe(type)} is expected` }];
    if (!wantsList && kind === 'list') return [{ where, message: `${fn} yields a list, but ${this.spec.describe(type)} is expected` }];
    return [];
  }

  // 'scalar', 'list', 'novalue' or 'any'.
  intrinsicResult(fn, args) {
    if (fn === 'Ref') {
      if (typeof args !== 'string') return 'any';
      if (PSEUDO_PARAMETERS.has(args)) return PSEUDO_PARAMETERS.get(args);
      const p = has(this.parameters, args) ? this.parameters[args] : undefined;
      if (p) return typeof p.Type === 'string' && (p.Type.startsWith('List<') || p.Type === 'CommaDelimitedList') ? 'list' : 'scalar';
      return has(this.resources, args) ? 'scalar' : 'any';
    }
    if (fn === 'Fn::GetAtt') {
      const target = this.getAttTarget(args);
      const attr = target && this.attributeSpec(target.resource, target.attribute);
      if (!attr) return 'any';
      if (attr.type.type === 'array') return 'list';
      return ['string', 'integer', 'number', 'boolean'].includes(attr.type.type) ? 'scalar' : 'any';
    }
    return INTRINSIC_RESULT.get(fn) ?? 'any';
  }

  // --- intrinsic functions ----------------------------------------------------------

  // Visits every intrinsic function under `node` and checks its arguments and the names it
  // refers to. `self` is the resource whose properties are walked (null outside Resources).
  walkExpressions(node, where, ctx) {
    if (Array.isArray(node)) {
      node.forEach((v, i) => this.walkExpressions(v, [...where, i], ctx));
      return;
    }
    if (!isObject(node)) return;
    const fn = intrinsicName(node, { conditionContext: !!ctx.inConditions });
    if (!fn) {
      for (const [k, v] of Object.entries(node)) this.walkExpressions(v, [...where, k], ctx);
      return;
    }
    const args = node[fn];
    const w = [...where, fn];
    this.checkIntrinsic(fn, args, w, ctx);
    // Fn::Sub's template string and Ref's name are not expressions; everything else may nest.
    if (fn === 'Fn::Sub') {
      if (Array.isArray(args) && isObject(args[1])) this.walkExpressions(args[1], [...w, 1], ctx);
    } else if (fn !== 'Ref' && fn !== 'Condition') {
      this.walkExpressions(args, w, ctx);
    }
  }

  checkIntrinsic(fn, args, where, ctx) {
    const listOf = (min, max = min) => Array.isArray(args) && args.length >= min && args.length <= max;
    const bad = (shape) => this.error(where, `${fn} takes ${shape}`);

    if (CONDITION_FUNCTIONS.has(fn) || fn === 'Condition') {
      if (!ctx.inConditions) { this.error(where, `${fn} is only allowed in the Conditions section`); return; }
    }
    if (LANGUAGE_EXTENSION_FUNCTIONS.has(fn) && !this.transforms.has('AWS::LanguageExtensions')) {
      this.error(where, `${fn} needs Transform AWS::LanguageExtensions`);
      return;
    }
    switch (fn) {
      case 'Ref':
        if (typeof args !== 'string') return bad('a name');
        return this.checkRefName(args, where, ctx);
      case 'Fn::GetAtt':
        return this.checkGetAtt(args, where, ctx);
      case 'Fn::Sub':
        return this.checkSub(args, where, ctx);
      case 'Fn::Join':
        if (!listOf(2) || typeof args[0] !== 'string') return bad('[delimiter, list]');
        return this.expectList(args[1], [...where, 1]);
      case 'Fn::Select':
        if (!listOf(2)) return bad('[index, list]');
        return this.expectList(args[1], [...where, 1]);
      case 'Fn::Split':
        if (!listOf(2) || typeof args[0] !== 'string') return bad('[delimiter, string]');
        return;
      case 'Fn::If':
        if (!listOf(3)) return bad('[condition name, value if true, value if false]');
        return this.checkConditionName([...where, 0], args[0]);
      case 'Fn::FindInMap':
        if (!listOf(3, 4)) return bad('[map name, top-level key, second-level key]');
        return this.checkFindInMap(args, where);
      case 'Fn::Equals':
        if (!listOf(2)) return bad('[value, value]');
        return;
      case 'Fn::And':
      case 'Fn::Or':
        if (!listOf(2, 10)) return bad('a list of 2 to 10 conditions');
        return;
      case 'Fn::Not':
        if (!listOf(1)) return bad('a list of one condition');
        return;
      case 'Condition':
        return this.checkConditionName(where, args);
      case 'Fn::Cidr':
        if (!listOf(3)) return bad('[ip block, count, cidr bits]');
        return;
      case 'Fn::Base64':
      case 'Fn::GetAZs':
      case 'Fn::ImportValue':
      case 'Fn::Transform':
      case 'Fn::Length':
      case 'Fn::ToJsonString':
      case 'Fn::ForEach':
        return;
      default:
        this.error(where, `unknown intrinsic function ${fn}`);
    }
  }

  expectList(v, where) {
    const fn = intrinsicName(v);
    if (fn ? this.intrinsicResult(fn, v[fn]) === 'scalar' : !Array.isArray(v)) {
      this.error(where, `expected a list, got ${fn ? `${fn} (a single value)` : describeValue(v)}`);
    }
  }

  checkRefName(name, where, ctx) {
    if (PSEUDO_PARAMETERS.has(name) || has(this.parameters, name)) return;
    if (has(this.resources, name)) {
      if (ctx.inConditions) this.error(where, `conditions can only refer to parameters, not to resource ${name}`);
      else if (name === ctx.self) this.error(where, `resource ${name} refers to itself`);
      return;
    }
    const candidates = [...Object.keys(this.parameters), ...Object.keys(this.resources), ...PSEUDO_PARAMETERS.keys()];
    this.error(where, `${name} is not a parameter, resource or pseudo parameter${hint(name, candidates)}`);
  }

  // {"Fn::GetAtt": ["Res", "Attr"]} or {"Fn::GetAtt": "Res.Attr"} -> {resource, attribute};
  // attribute is null when it is computed by an intrinsic.
  getAttTarget(args) {
    if (typeof args === 'string') {
      const dot = args.indexOf('.');
      return dot > 0 ? { resource: args.slice(0, dot), attribute: args.slice(dot + 1) } : null;
    }
    if (Array.isArray(args) && args.length === 2 && typeof args[0] === 'string') {
      return { resource: args[0], attribute: typeof args[1] === 'string' ? args[1] : null };
    }
    return null;
  }

  attributeSpec(resourceName, attribute) {
    const resource = has(this.resources, resourceName) ? this.resources[resourceName] : undefined;
    if (!isObject(resource) || typeof resource.Type !== 'string' || attribute === null) return null;
    const { spec } = this.resourceSpec(resource.Type);
    return spec && has(spec.attributes, attribute) ? spec.attributes[attribute] : null;
  }

  checkGetAtt(args, where, ctx) {
    const target = this.getAttTarget(args);
    if (!target) { this.error(where, 'Fn::GetAtt takes [resource, attribute] or "resource.attribute"'); return; }
    this.checkAttribute(target.resource, target.attribute, where, ctx);
  }

  checkAttribute(resourceName, attribute, where, ctx) {
    if (ctx.inConditions) { this.error(where, 'conditions cannot use resource attributes'); return; }
    if (!has(this.resources, resourceName)) {
      const why = has(this.parameters, resourceName) ? 'is a parameter, not a resource' : `is not a resource${hint(resourceName, Object.keys(this.resources))}`;
      this.error(where, `${resourceName} ${why}`);
      return;
    }
    if (resourceName === ctx.self) { this.error(where, `resource ${resourceName} refers to itself`); return; }
    const resource = this.resources[resourceName];
    if (attribute === null || !isObject(resource) || typeof resource.Type !== 'string') return;
    const { spec, custom } = this.resourceSpec(resource.Type);
    // Custom resources return whatever their handler returns; nested stacks expose Outputs.*.
    if (!spec || custom || (resource.Type === 'AWS::CloudFormation::Stack' && attribute.startsWith('Outputs.'))) return;
    if (!has(spec.attributes, attribute)) {
      const names = Object.keys(spec.attributes);
      this.error(where, `${resource.Type} has no attribute ${attribute} (it has ${names.join(', ') || 'none'})`);
    }
  }

  checkSub(args, where, ctx) {
    let text;
    let vars = {};
    if (typeof args === 'string') {
      text = args;
    } else if (Array.isArray(args) && args.length === 2 && typeof args[0] === 'string' && isObject(args[1])) {
      [text, vars] = args;
    } else {
      this.error(where, 'Fn::Sub takes a string or [string, {name: value}]');
      return;
    }
    const textWhere = Array.isArray(args) ? [...where, 0] : where;
    for (const name of placeholders(text)) {
      if (has(vars, name)) continue;
      const dot = name.indexOf('.');
      if (dot > 0) this.checkAttribute(name.slice(0, dot), name.slice(dot + 1), textWhere, ctx);
      else this.checkRefName(name, textWhere, ctx);
    }
  }

  checkFindInMap(args, where) {
    const [mapName, topKey, secondKey] = args;
    if (typeof mapName !== 'string') return;
    const map = has(this.mappings, mapName) ? this.mappings[mapName] : undefined;
    if (!isObject(map)) { this.error([...where, 0], `unknown mapping ${mapName}${hint(mapName, Object.keys(this.mappings))}`); return; }
    if (typeof topKey !== 'string') return;
    if (!has(map, topKey) || !isObject(map[topKey])) { this.error([...where, 1], `mapping ${mapName} has no key ${topKey}`); return; }
    if (typeof secondKey === 'string' && !has(map[topKey], secondKey) && args.length === 3) {
      this.error([...where, 2], `mapping ${mapName}.${topKey} has no key ${secondKey}`);
    }
  }

  // --- IAM --------------------------------------------------------------------------

  // Values at `location` under `root`, looking through Fn::If; yields [value, where].
  * collect(root, location, where) {
    if (location.length === 0) { yield* this.branches(root, where); return; }
    const [step, ...rest] = location;
    for (const [v, w] of this.branches(root, where)) {
      if (step === '[]') {
        if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* this.collect(v[i], rest, [...w, i]);
      } else if (isObject(v) && !intrinsicName(v) && has(v, step)) {
        yield* this.collect(v[step], rest, [...w, step]);
      }
    }
  }

  // The concrete values `v` can take: both arms of a Fn::If, nothing for AWS::NoValue.
  * branches(v, where) {
    const fn = intrinsicName(v);
    if (fn === 'Fn::If' && Array.isArray(v[fn]) && v[fn].length === 3) {
      yield* this.branches(v[fn][1], [...where, fn, 1]);
      yield* this.branches(v[fn][2], [...where, fn, 2]);
    } else if (!(fn === 'Ref' && v.Ref === 'AWS::NoValue')) {
      yield [v, where];
    }
  }

  checkPolicyDocument(doc, where, trust) {
    if (typeof doc === 'string') {
      try { doc = JSON.parse(doc); } catch { this.error(where, 'policy document string is not JSON'); return; }
    }
    if (intrinsicName(doc)) return; // computed at deploy time; nothing to inspect
    if (!isObject(doc)) { this.error(where, 'a policy document must be an object'); return; }
    if (doc.Version !== '2012-10-17') {
      this.warn(has(doc, 'Version') ? [...where, 'Version'] : where,
        'policy Version should be "2012-10-17" (without it IAM uses the 2008 grammar, which lacks policy variables)');
    }
    if (!has(doc, 'Statement')) { this.error(where, 'policy document has no Statement'); return; }
    const statementWhere = [...where, 'Statement'];
    const list = Array.isArray(doc.Statement)
      ? doc.Statement.map((s, i) => [s, [...statementWhere, i]])
      : [[doc.Statement, statementWhere]];
    for (const [s0, w0] of list) {
      for (const [s, w] of this.branches(s0, w0)) this.checkStatement(s, w, trust);
    }
  }

  checkStatement(s, where, trust) {
    if (intrinsicName(s)) return; // computed at deploy time
    if (!isObject(s)) { this.error(where, 'a statement must be an object'); return; }
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') this.error([...where, 'Effect'], 'Effect must be "Allow" or "Deny"');
    const allow = s.Effect === 'Allow';
    const hasAction = has(s, 'Action');
    if (hasAction === has(s, 'NotAction')) {
      this.error(where, 'a statement needs exactly one of Action and NotAction');
    }
    if (allow && has(s, 'NotAction')) {
      this.error([...where, 'NotAction'], 'Allow with NotAction grants every action but the listed ones; list the actions instead');
    }

    const actions = [];
    for (const key of ['Action', 'NotAction']) {
      if (!has(s, key)) continue;
      const values = Array.isArray(s[key]) ? s[key].map((a, i) => [a, [...where, key, i]]) : [[s[key], [...where, key]]];
      for (const [a0, w0] of values) {
        for (const [a, w] of this.branches(a0, w0)) {
          if (typeof a !== 'string') continue; // computed by an intrinsic
          actions.push(a);
          if (allow && key === 'Action' && /[*?]/.test(a)) {
            this.error(w, a === '*' ? 'wildcard action "*" grants every action of every service'
              : `wildcard in action ${JSON.stringify(a)}; list the actions the pipeline needs`);
          } else if (!/[*?]/.test(a) && !IAM_ACTION.test(a)) {
            this.error(w, `malformed action ${JSON.stringify(a)}; expected "service:Action"`);
          }
        }
      }
    }

    if (trust) {
      if (!has(s, 'Principal')) this.error(where, 'a trust policy statement needs a Principal');
      else if (allow && grantsEveryone(s.Principal)) this.error([...where, 'Principal'], 'trust policy lets any principal assume the role');
      return;
    }
    if (has(s, 'Principal') || has(s, 'NotPrincipal')) {
      this.error(where, 'an identity policy cannot name a Principal');
    }
    if (!has(s, 'Resource') && !has(s, 'NotResource')) this.error(where, 'a statement needs Resource or NotResource');
    if (allow && actions.some((a) => a.toLowerCase() === 'iam:passrole')) {
      const resources = has(s, 'Resource') ? [s.Resource].flat() : [];
      if (has(s, 'NotResource') || resources.includes('*')) {
        this.error([...where, has(s, 'NotResource') ? 'NotResource' : 'Resource'],
          'iam:PassRole on every role ("*" or NotResource) allows privilege escalation; name the roles');
      }
    }
  }

  // --- Step Functions ---------------------------------------------------------------

  checkStateMachine(props, where) {
    const sources = ['Definition', 'DefinitionString', 'DefinitionS3Location'].filter((k) => has(props, k));
    if (sources.length !== 1) {
      this.error(where, sources.length === 0 ? 'a state machine needs Definition, DefinitionString or DefinitionS3Location'
        : `${sources.join(' and ')} are mutually exclusive`);
    }
    // Placeholders are only resolvable when the definition text is in the template.
    let used;
    if (has(props, 'Definition') && !intrinsicName(props.Definition)) used = collectPlaceholders(props.Definition);
    else if (typeof props.DefinitionString === 'string') used = new Set(placeholders(props.DefinitionString));
    else return;
    const subs = props.DefinitionSubstitutions ?? {};
    if (!isObject(subs) || intrinsicName(subs)) return;
    const defKey = has(props, 'Definition') ? 'Definition' : 'DefinitionString';
    for (const name of used) {
      if (!has(subs, name)) {
        this.error([...where, defKey], `placeholder \${${name}} has no entry in DefinitionSubstitutions`);
      }
    }
    for (const name of Object.keys(subs)) {
      if (!used.has(name)) this.warn([...where, 'DefinitionSubstitutions', name], `substitution is not used by the ${defKey}`);
    }
  }
}

// Names referenced as ${Name} in a Fn::Sub-style string; ${!Literal} is an escape.
function placeholders(text) {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]).filter((n) => !n.startsWith('!'));
}

// Every ${Name} placeholder in any string (key or value) of a JSON value.
function collectPlaceholders(node, out = new Set()) {
  if (typeof node === 'string') placeholders(node).forEach((n) => out.add(n));
  else if (Array.isArray(node)) node.forEach((v) => collectPlaceholders(v, out));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) { collectPlaceholders(k, out); collectPlaceholders(v, out); }
  }
  return out;
}

// String, Number, List<Number>, CommaDelimitedList, AWS-specific types such as
// AWS::EC2::VPC::Id or List<AWS::EC2::Subnet::Id>, and AWS::SSM::Parameter::Value<...>.
function isParameterType(type) {
  if (PLAIN_PARAMETER_TYPES.has(type) || /^AWS::SSM::Parameter::Value<.+>$/.test(type)) return true;
  const inner = type.match(/^List<(.+)>$/)?.[1] ?? type;
  return /^AWS::[A-Za-z0-9]+(::[A-Za-z0-9.]+)+$/.test(inner);
}

function grantsEveryone(principal) {
  if (principal === '*') return true;
  return isObject(principal) && [principal.AWS].flat().includes('*');
}

// ---------------------------------------------------------------------------------------
// Reading templates.

const SHORT_FORM_FUNCTIONS = [
  'Ref', 'Condition', 'Fn::And', 'Fn::Base64', 'Fn::Cidr', 'Fn::Equals', 'Fn::FindInMap',
  'Fn::GetAZs', 'Fn::GetAtt', 'Fn::If', 'Fn::ImportValue', 'Fn::Join', 'Fn::Length',
  'Fn::Not', 'Fn::Or', 'Fn::Select', 'Fn::Split', 'Fn::Sub', 'Fn::ToJsonString', 'Fn::Transform',
];

let yamlModule; // undefined: not tried yet; null: unavailable

async function loadYaml() {
  if (yamlModule === undefined) {
    try { yamlModule = (await import('yaml')).default; } catch { yamlModule = null; }
  }
  return yamlModule;
}

// "!Ref X" -> {"Ref": "X"}, "!GetAtt A.B" -> {"Fn::GetAtt": "A.B"} and so on, for scalars,
// sequences and mappings alike.
function cloudFormationYamlTags() {
  return SHORT_FORM_FUNCTIONS.flatMap((fn) => {
    const tag = `!${fn.replace(/^Fn::/, '')}`;
    const wrap = (value) => ({ [fn]: value });
    return [
      { tag, resolve: (s) => wrap(s) },
      { tag, collection: 'seq', resolve: (seq) => wrap(seq.toJSON()) },
      { tag, collection: 'map', resolve: (map) => wrap(map.toJSON()) },
    ];
  });
}

async function readTemplate(file) {
  const text = fs.readFileSync(file, 'utf8');
  const yamlLike = /\.ya?ml$/i.test(file);
  if (!yamlLike) {
    try { return JSON.parse(text); } catch (e) {
      if (path.extname(file).toLowerCase() === '.json') throw e;
    }
  }
  const YAML = await loadYaml();
  if (!YAML) throw new Error('not JSON, and the npm package "yaml" is not installed to read YAML');
  return YAML.parse(text, { customTags: cloudFormationYamlTags() });
}

// ---------------------------------------------------------------------------------------

async function main(files) {
  if (files.length === 0 || files.some((f) => f === '-h' || f === '--help')) {
    process.stderr.write('usage: node check_template.mjs TEMPLATE.json [TEMPLATE2.json ...]\n');
    return 2;
  }
  const spec = new Spec();
  let failed = false;
  let resourceCount = 0;
  for (const file of files) {
    let template;
    try {
      template = await readTemplate(file);
    } catch (e) {
      console.log(`${file}: cannot read template: ${e.message.split('\n')[0]}`);
      failed = true;
      continue;
    }
    const checker = new TemplateChecker(spec, template);
    checker.run();
    for (const p of checker.problems) {
      const where = formatWhere(p.where);
      console.log(`${file}: ${where ? `${where}: ` : ''}${p.warning ? 'warning: ' : ''}${p.message}`);
      if (!p.warning) failed = true;
    }
    resourceCount += Object.keys(checker.resources ?? {}).length;
  }
  if (failed) return 1;
  console.log(`ok: ${resourceCount} resources checked`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
