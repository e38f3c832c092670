/** The parts of Kubernetes objects the injection reads and writes; unknown fields pass through. */

/** A container's environment variable. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

/** A container's volume mount. */
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  [key: string]: unknown;
}

/** A container. */
export interface Container {
  name: string;
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  [key: string]: unknown;
}

/** A pod volume. */
export interface Volume {
  name: string;
  [key: string]: unknown;
}

/** A pod spec. */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  automountServiceAccountToken?: boolean;
  [key: string]: unknown;
}

/** Object metadata. */
export interface Metadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A pod, or the template of one inside a workload. */
export interface PodTemplate {
  metadata?: Metadata;
  spec: PodSpec;
  [key: string]: unknown;
}
