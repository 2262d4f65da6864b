// tg.nn: modules and layers; tg.nn.functional for the functional forms.
export * as functional from './functional.js';
