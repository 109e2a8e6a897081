// The ES module face of index.js: one implementation, two ways to load it.
import imgp from './index.js';

export const { Pipeline, ImgpError, ID_MEMBER } = imgp;
export default imgp;
