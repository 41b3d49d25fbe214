import java.io.IOException;
import java.io.UncheckedIOException;

public class PrintStack {
    static void upload(String name) throws IOException {
        throw new IOException("disk full while writing " + name);
    }

    public static void main(String[] args) {
        try {
            upload("report.pdf");
        } catch (IOException e) {
            new UncheckedIOException("upload failed", e).printStackTrace();
        }
    }
}
