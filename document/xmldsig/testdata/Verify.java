// Verify checks Kyso's XML signatures with Java's own XML Signature
// implementation (javax.xml.crypto.dsig, the JDK's Apache Santuario, in
// its default secure-validation mode): a second verifier, independent of
// Kyso and of xmlsec1, as Java receivers run it.
//
//   java -cp DIR Verify ca.pem SIGNATURE_ID=FILE …
//
// For each pair it prints "ok ID" or "FAIL ID: why", and exits 1 if any
// failed. The signer's certificate (KeyInfo/X509Data) must be issued by
// the CA in ca.pem and valid now. Id and id attributes are registered as
// XML IDs, as receivers do for e-invoices (DLHDon Id) and tax filings
// (HSoKhaiThue id). DOCTYPEs are refused.
import java.io.File;
import java.io.FileInputStream;
import java.security.Key;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.xml.crypto.AlgorithmMethod;
import javax.xml.crypto.KeySelector;
import javax.xml.crypto.KeySelectorException;
import javax.xml.crypto.KeySelectorResult;
import javax.xml.crypto.XMLCryptoContext;
import javax.xml.crypto.XMLStructure;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.X509Data;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class Verify {
    public static void main(String[] args) throws Exception {
        X509Certificate ca;
        try (FileInputStream in = new FileInputStream(args[0])) {
            ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        boolean allOK = true;
        for (int i = 1; i < args.length; i++) {
            String id = args[i].substring(0, args[i].indexOf('='));
            String file = args[i].substring(args[i].indexOf('=') + 1);
            try {
                verify(ca, id, new File(file));
                System.out.println("ok " + id);
            } catch (Exception e) {
                allOK = false;
                System.out.println("FAIL " + id + ": " + e);
            }
        }
        System.exit(allOK ? 0 : 1);
    }

    static void verify(X509Certificate ca, String id, File file) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = dbf.newDocumentBuilder().parse(file);
        NodeList all = doc.getElementsByTagNameNS("*", "*");
        Element sig = null;
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            for (String a : new String[] {"Id", "id"}) {
                if (e.hasAttributeNS(null, a)) {
                    e.setIdAttributeNS(null, a, true);
                }
            }
            if ("Signature".equals(e.getLocalName()) && XMLSignature.XMLNS.equals(e.getNamespaceURI())
                    && id.equals(e.getAttributeNS(null, "Id"))) {
                sig = e;
            }
        }
        if (sig == null) {
            throw new Exception("no Signature with Id " + id);
        }
        DOMValidateContext ctx = new DOMValidateContext(new CAKeySelector(ca), sig);
        ctx.setProperty("javax.xml.crypto.dsig.cacheReference", Boolean.TRUE);
        XMLSignature s = XMLSignatureFactory.getInstance("DOM").unmarshalXMLSignature(ctx);
        if (!s.validate(ctx)) {
            StringBuilder why = new StringBuilder("invalid:");
            why.append(" SignatureValue ").append(s.getSignatureValue().validate(ctx) ? "ok" : "bad");
            for (Object r : s.getSignedInfo().getReferences()) {
                Reference ref = (Reference) r;
                boolean ok = ref.validate(ctx);
                why.append(", reference ").append(ref.getURI()).append(ok ? " ok" : " bad");
                if (!ok && ref.getDigestInputStream() != null) {
                    why.append(" (canonical: ").append(new String(ref.getDigestInputStream().readAllBytes(), "UTF-8")).append(")");
                }
            }
            throw new Exception(why.toString());
        }
    }

    // CAKeySelector takes the key of the first certificate in X509Data,
    // once it checks that the CA issued it and that it is valid now.
    static class CAKeySelector extends KeySelector {
        final X509Certificate ca;

        CAKeySelector(X509Certificate ca) {
            this.ca = ca;
        }

        public KeySelectorResult select(KeyInfo info, Purpose p, AlgorithmMethod m, XMLCryptoContext c)
                throws KeySelectorException {
            for (Object o : info.getContent()) {
                if (!(o instanceof X509Data)) {
                    continue;
                }
                for (Object d : ((X509Data) o).getContent()) {
                    if (d instanceof X509Certificate) {
                        X509Certificate cert = (X509Certificate) d;
                        try {
                            cert.verify(ca.getPublicKey());
                            cert.checkValidity();
                        } catch (Exception e) {
                            throw new KeySelectorException("certificate not from the test CA: " + e);
                        }
                        final PublicKey k = cert.getPublicKey();
                        return new KeySelectorResult() {
                            public Key getKey() {
                                return k;
                            }
                        };
                    }
                }
            }
            throw new KeySelectorException("no X509Certificate in KeyInfo");
        }
    }
}
