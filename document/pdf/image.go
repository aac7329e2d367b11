package pdf

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// stampImage is a decoded stamp image, ready to embed.
type stampImage struct {
	w, h  int
	jpeg  []byte // kept as is (DCTDecode) when it needs no change
	gray  bool   // the pixels are DeviceGray (1 byte each), else DeviceRGB
	pix   []byte
	alpha []byte // DeviceGray soft mask; nil when opaque
}

// maxImageSide is the largest side kept: a stamp is at most a few inches,
// and 1200 pixels is 300 dpi over 4 inches. Larger images are scaled down
// so that a phone photo of a seal does not add megabytes to every PDF.
const maxImageSide = 1200

// decodeImage reads a PNG or JPEG, checks its size before decoding it
// (a small file can claim a huge picture), and scales it down if needed.
func decodeImage(b []byte) (*stampImage, error) {
	if len(b) > MaxImageBytes {
		return nil, bad("the stamp image is larger than %d bytes", MaxImageBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || (format != "png" && format != "jpeg") {
		return nil, bad("the stamp image is not a PNG or JPEG")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxImagePixels {
		return nil, bad("the stamp image is %d × %d pixels; at most %d pixels", cfg.Width, cfg.Height, MaxImagePixels)
	}
	var img image.Image
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(b))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return nil, bad("the stamp image cannot be read: %v", err)
	}
	bounds := img.Bounds()
	w, h := bounds.Dx(), bounds.Dy()
	scaled := false
	if s := max(w, h); s > maxImageSide {
		w, h = max(1, w*maxImageSide/s), max(1, h*maxImageSide/s)
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, bounds, draw.Src, nil)
		img, bounds, scaled = dst, dst.Bounds(), true
	}
	si := &stampImage{w: w, h: h}
	if format == "jpeg" && !scaled {
		if _, cmyk := img.(*image.CMYK); !cmyk {
			// JPEG as it came (gray or YCbCr): viewers decode it natively.
			si.jpeg = b
			_, si.gray = img.(*image.Gray)
			return si, nil
		}
	}
	si.gray = isGray(img)
	opaque := true
	if o, ok := img.(interface{ Opaque() bool }); ok {
		opaque = o.Opaque()
	}
	if !opaque {
		si.alpha = make([]byte, 0, w*h)
	}
	if si.gray {
		si.pix = make([]byte, 0, w*h)
	} else {
		si.pix = make([]byte, 0, 3*w*h)
	}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if si.gray {
				si.pix = append(si.pix, c.R)
			} else {
				si.pix = append(si.pix, c.R, c.G, c.B)
			}
			if si.alpha != nil {
				si.alpha = append(si.alpha, c.A)
			}
		}
	}
	return si, nil
}

func isGray(img image.Image) bool {
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	return false
}

// putImage embeds the image as an XObject (with an SMask for transparency).
func (u *update) putImage(si *stampImage) (Ref, error) {
	cs := Name("DeviceRGB")
	if si.gray {
		cs = "DeviceGray"
	}
	d := Dict{
		"Type":             Name("XObject"),
		"Subtype":          Name("Image"),
		"Width":            int64(si.w),
		"Height":           int64(si.h),
		"ColorSpace":       cs,
		"BitsPerComponent": int64(8),
	}
	ref := u.alloc()
	if si.jpeg != nil {
		d["Filter"] = Name("DCTDecode")
		u.put(ref, &Stream{Dict: d, Raw: si.jpeg})
		return ref, nil
	}
	if si.alpha != nil {
		m := u.alloc()
		u.put(m, flateStream(Dict{
			"Type": Name("XObject"), "Subtype": Name("Image"), "Width": int64(si.w), "Height": int64(si.h),
			"ColorSpace": Name("DeviceGray"), "BitsPerComponent": int64(8),
		}, si.alpha))
		d["SMask"] = m
	}
	u.put(ref, flateStream(d, si.pix))
	return ref, nil
}
