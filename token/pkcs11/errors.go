package pkcs11

import (
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"

	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// ckrNames maps the return values we meet to their CKR_ names; the rest
// are printed as CKR_0x… so a TOKEN_ERROR detail is always a CKR_ string.
var ckrNames = map[pkcs11.Error]string{
	pkcs11.CKR_CANCEL:                       "CKR_CANCEL",
	pkcs11.CKR_HOST_MEMORY:                  "CKR_HOST_MEMORY",
	pkcs11.CKR_SLOT_ID_INVALID:              "CKR_SLOT_ID_INVALID",
	pkcs11.CKR_GENERAL_ERROR:                "CKR_GENERAL_ERROR",
	pkcs11.CKR_FUNCTION_FAILED:              "CKR_FUNCTION_FAILED",
	pkcs11.CKR_ARGUMENTS_BAD:                "CKR_ARGUMENTS_BAD",
	pkcs11.CKR_ATTRIBUTE_SENSITIVE:          "CKR_ATTRIBUTE_SENSITIVE",
	pkcs11.CKR_ATTRIBUTE_TYPE_INVALID:       "CKR_ATTRIBUTE_TYPE_INVALID",
	pkcs11.CKR_DATA_INVALID:                 "CKR_DATA_INVALID",
	pkcs11.CKR_DATA_LEN_RANGE:               "CKR_DATA_LEN_RANGE",
	pkcs11.CKR_DEVICE_ERROR:                 "CKR_DEVICE_ERROR",
	pkcs11.CKR_DEVICE_MEMORY:                "CKR_DEVICE_MEMORY",
	pkcs11.CKR_DEVICE_REMOVED:               "CKR_DEVICE_REMOVED",
	pkcs11.CKR_FUNCTION_CANCELED:            "CKR_FUNCTION_CANCELED",
	pkcs11.CKR_FUNCTION_NOT_SUPPORTED:       "CKR_FUNCTION_NOT_SUPPORTED",
	pkcs11.CKR_KEY_HANDLE_INVALID:           "CKR_KEY_HANDLE_INVALID",
	pkcs11.CKR_KEY_SIZE_RANGE:               "CKR_KEY_SIZE_RANGE",
	pkcs11.CKR_KEY_TYPE_INCONSISTENT:        "CKR_KEY_TYPE_INCONSISTENT",
	pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:   "CKR_KEY_FUNCTION_NOT_PERMITTED",
	pkcs11.CKR_MECHANISM_INVALID:            "CKR_MECHANISM_INVALID",
	pkcs11.CKR_MECHANISM_PARAM_INVALID:      "CKR_MECHANISM_PARAM_INVALID",
	pkcs11.CKR_OBJECT_HANDLE_INVALID:        "CKR_OBJECT_HANDLE_INVALID",
	pkcs11.CKR_OPERATION_ACTIVE:             "CKR_OPERATION_ACTIVE",
	pkcs11.CKR_OPERATION_NOT_INITIALIZED:    "CKR_OPERATION_NOT_INITIALIZED",
	pkcs11.CKR_PIN_INCORRECT:                "CKR_PIN_INCORRECT",
	pkcs11.CKR_PIN_INVALID:                  "CKR_PIN_INVALID",
	pkcs11.CKR_PIN_LEN_RANGE:                "CKR_PIN_LEN_RANGE",
	pkcs11.CKR_PIN_EXPIRED:                  "CKR_PIN_EXPIRED",
	pkcs11.CKR_PIN_LOCKED:                   "CKR_PIN_LOCKED",
	pkcs11.CKR_SESSION_CLOSED:               "CKR_SESSION_CLOSED",
	pkcs11.CKR_SESSION_COUNT:                "CKR_SESSION_COUNT",
	pkcs11.CKR_SESSION_HANDLE_INVALID:       "CKR_SESSION_HANDLE_INVALID",
	pkcs11.CKR_SESSION_READ_ONLY:            "CKR_SESSION_READ_ONLY",
	pkcs11.CKR_TOKEN_NOT_PRESENT:            "CKR_TOKEN_NOT_PRESENT",
	pkcs11.CKR_TOKEN_NOT_RECOGNIZED:         "CKR_TOKEN_NOT_RECOGNIZED",
	pkcs11.CKR_USER_ALREADY_LOGGED_IN:       "CKR_USER_ALREADY_LOGGED_IN",
	pkcs11.CKR_USER_NOT_LOGGED_IN:           "CKR_USER_NOT_LOGGED_IN",
	pkcs11.CKR_USER_PIN_NOT_INITIALIZED:     "CKR_USER_PIN_NOT_INITIALIZED",
	pkcs11.CKR_USER_TYPE_INVALID:            "CKR_USER_TYPE_INVALID",
	pkcs11.CKR_BUFFER_TOO_SMALL:             "CKR_BUFFER_TOO_SMALL",
	pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED:     "CKR_CRYPTOKI_NOT_INITIALIZED",
	pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED: "CKR_CRYPTOKI_ALREADY_INITIALIZED",
}

// ckrName is the CKR_ name of a PKCS#11 error, or err's text for others.
func ckrName(err error) string {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	if n, ok := ckrNames[e]; ok {
		return n
	}
	return fmt.Sprintf("CKR_0x%08X", uint(e))
}

// mapErr turns a PKCS#11 failure during what into a token.Error. It is the
// one place that decides which CKR_ value means which protocol code.
//
// A pulled-out token shows as CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT,
// and on many modules as CKR_SESSION_HANDLE_INVALID / CKR_SESSION_CLOSED
// (the module drops the token's sessions) or CKR_DEVICE_ERROR (the reader
// lost the card mid-APDU); the last three are TOKEN_REMOVED only when the
// token is really gone, which the caller checks (gone) since the same codes
// can mean a bug.
func mapErr(what string, err error, gone func() bool) error {
	if err == nil {
		return nil
	}
	var te *token.Error
	if errors.As(err, &te) {
		return err
	}
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return &token.Error{Code: protocol.TokenError, Err: fmt.Errorf("%s: %w", what, err)}
	}
	wrap := fmt.Errorf("%s: %s", what, ckrName(err))
	switch e {
	case pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT:
		return &token.Error{Code: protocol.TokenRemoved, Detail: ckrName(err), Err: wrap}
	case pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_DEVICE_ERROR:
		if gone != nil && gone() {
			return &token.Error{Code: protocol.TokenRemoved, Detail: ckrName(err), Err: wrap}
		}
	case pkcs11.CKR_PIN_LOCKED:
		return &token.Error{Code: protocol.PINLocked, Detail: ckrName(err), Err: wrap}
	case pkcs11.CKR_PIN_INCORRECT:
		return &token.Error{Code: token.PINIncorrect, Detail: ckrName(err), Err: wrap}
	case pkcs11.CKR_FUNCTION_CANCELED:
		// Cancel on a PIN pad, or the pad's own time-out (OpenSC maps both
		// to it): the person's decision, as in a dialog.
		return &token.Error{Code: protocol.UserCancelled, Detail: ckrName(err), Err: wrap}
	case pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_MECHANISM_PARAM_INVALID,
		pkcs11.CKR_KEY_TYPE_INCONSISTENT, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:
		return &token.Error{Code: protocol.UnsupportedAlgorithm, Detail: ckrName(err), Err: wrap}
	}
	return &token.Error{Code: protocol.TokenError, Detail: ckrName(err), Err: wrap}
}
