package sie;

import java.nio.file.Files;
import java.nio.file.Path;
import sie.domain.Document;
import sie.validate.DocumentValidator;

/**
 * Reads an SIE file with Björn Lundén's own SIE library (github.com/blinfo/Sie4j), validating it, and
 * prints every log of its DocumentValidator. See README.md, "Checking an SIE file with BL's Sie4j".
 * Compiled together with Sie4j's sources (it uses the package-private SieReader), so it sits in `sie`.
 */
public class CheckFile {
    public static void main(String[] args) throws Exception {
        byte[] data = Files.readAllBytes(Path.of(args[0]));
        DataReader reader = SieReader.of(data, Boolean.FALSE);
        DocumentValidator validator = reader.validate();
        validator.getLogs().forEach(log -> System.out.println(log));
        Document document = reader.read();
        System.out.println("type=" + document.metaData().sieType() + " vouchers=" + document.vouchers().size()
            + " accounts=" + document.optAccountingPlan().map(p -> p.accounts().size()).orElse(0)
            + " costCentres=" + document.costCentres().size() + " balanced=" + document.isBalanced()
            + " valid=" + validator.isValid());
    }
}
