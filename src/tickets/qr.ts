import QRCode from 'qrcode';

/** The code as a QR image (SVG markup); medium error correction survives a scuffed phone screen. */
export function qrSvg(code: string): Promise<string> {
  return QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
