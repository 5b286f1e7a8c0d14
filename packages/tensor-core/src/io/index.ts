export {
  parseSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  SAFETENSORS_MAX_HEADER_BYTES,
  type ParsedSafetensors,
  type SafetensorsHeader,
  type SafetensorsHeaderEntry,
  type SafetensorsEntry,
  type SerializeEntry,
  type SerializeOptions,
} from './safetensors-format.js';
export {
  halfToFloat,
  SAFETENSORS_ITEM_SIZE,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsWriteDtype,
} from './safetensors-dtypes.js';
export {
  loadSafetensors,
  saveSafetensors,
  saveSafetensorsAsync,
  type LoadedSafetensors,
  type LoadSafetensorsOptions,
  type SaveSafetensorsOptions,
} from './safetensors.js';
export {
  loadStateDictFromSafetensors,
  type LoadStateDictFromSafetensorsOptions,
  type LoadStateDictFromSafetensorsResult,
} from './state-dict-io.js';
