package org.peft4j.data;

import java.nio.file.Path;
import java.util.List;

/**
 * What a {@link JsonlReader} got from one file.
 *
 * @param file     the file read
 * @param examples the usable examples, in file order
 * @param skipped  bad lines left out ({@link OnBadLine#SKIP}); always 0 with {@link OnBadLine#FAIL}
 * @param problems the first few skipped lines' problems, each starting with {@code file:line:}
 */
public record JsonlRead(Path file, List<LabeledText> examples, long skipped, List<String> problems) {

    public JsonlRead {
        examples = List.copyOf(examples);
        problems = List.copyOf(problems);
    }
}
