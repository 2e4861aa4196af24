/** Fits the built-in model off the main thread (src/semantic/models.ts fitInWorker); posts the serialized model. */
import { parentPort, workerData } from 'node:worker_threads';
import { fitBuiltinModel, serializeBuiltinModel } from './builtin.js';

const documents = (workerData as { documents?: unknown }).documents;
if (!Array.isArray(documents) || !documents.every((d) => typeof d === 'string')) throw new Error('fit worker: expected { documents: string[] }');
parentPort?.postMessage(serializeBuiltinModel(fitBuiltinModel(documents)));
