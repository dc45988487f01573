import type { CustomerProjection, ProjectionName } from './projection.js';
import { experienceProjection } from './experience.js';
import { serviceProjection } from './service.js';
import { successProjection } from './success.js';
import { valueProjection } from './value.js';

/** Every view, by name. Each is a {@link CustomerProjection} over its own state type. */
export const projections: { readonly [N in ProjectionName]: CustomerProjection<unknown> } = {
  service: serviceProjection,
  success: successProjection,
  experience: experienceProjection,
  value: valueProjection,
};
