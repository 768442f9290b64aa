package org.peft4j.peft.lora;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds a {@link LoraConfig} one named setting at a time; unset settings keep PEFT's defaults. */
public final class LoraConfigBuilder {

    private int r = 8;
    private double alpha = 8;
    private double dropout;
    private List<String> targets = new ArrayList<>();
    private String targetRegex;
    private List<String> modulesToSave = new ArrayList<>();
    private boolean allLinear;
    private List<String> exclude = new ArrayList<>();
    private String excludeRegex;
    private boolean rsLora;
    private Map<String, Integer> rankPattern = new LinkedHashMap<>();
    private Map<String, Double> alphaPattern = new LinkedHashMap<>();
    private List<Integer> layersToTransform = new ArrayList<>();
    private List<String> layersPattern = new ArrayList<>();
    private LoraBias bias = LoraBias.NONE;
    private LoraInit init = LoraInit.KAIMING_UNIFORM;
    private boolean fanInFanOut;
    private boolean useDora;

    LoraConfigBuilder() {
    }

    LoraConfigBuilder(LoraConfig c) {
        r = c.r();
        alpha = c.alpha();
        dropout = c.dropout();
        targets = new ArrayList<>(c.targets());
        targetRegex = c.targetRegex();
        modulesToSave = new ArrayList<>(c.modulesToSave());
        allLinear = c.allLinear();
        exclude = new ArrayList<>(c.exclude());
        excludeRegex = c.excludeRegex();
        rsLora = c.rsLora();
        rankPattern = new LinkedHashMap<>(c.rankPattern());
        alphaPattern = new LinkedHashMap<>(c.alphaPattern());
        layersToTransform = new ArrayList<>(c.layersToTransform());
        layersPattern = new ArrayList<>(c.layersPattern());
        bias = c.bias();
        init = c.init();
        fanInFanOut = c.fanInFanOut();
        useDora = c.useDora();
    }

    public LoraConfigBuilder r(int v) { r = v; return this; }

    public LoraConfigBuilder alpha(double v) { alpha = v; return this; }

    public LoraConfigBuilder dropout(double v) { dropout = v; return this; }

    public LoraConfigBuilder targets(List<String> v) { targets = new ArrayList<>(v); return this; }

    public LoraConfigBuilder targets(String... v) { return targets(List.of(v)); }

    public LoraConfigBuilder targetRegex(String v) { targetRegex = v; return this; }

    public LoraConfigBuilder modulesToSave(List<String> v) { modulesToSave = new ArrayList<>(v); return this; }

    public LoraConfigBuilder modulesToSave(String... v) { return modulesToSave(List.of(v)); }

    /** Every linear layer but the output head ({@code classifier}, {@code lm_head}, {@code score}). */
    public LoraConfigBuilder allLinear() { allLinear = true; return this; }

    public LoraConfigBuilder allLinear(boolean v) { allLinear = v; return this; }

    public LoraConfigBuilder exclude(List<String> v) { exclude = new ArrayList<>(v); return this; }

    public LoraConfigBuilder exclude(String... v) { return exclude(List.of(v)); }

    public LoraConfigBuilder excludeRegex(String v) { excludeRegex = v; return this; }

    public LoraConfigBuilder rsLora(boolean v) { rsLora = v; return this; }

    public LoraConfigBuilder rankPattern(Map<String, Integer> v) { rankPattern = new LinkedHashMap<>(v); return this; }

    public LoraConfigBuilder alphaPattern(Map<String, Double> v) { alphaPattern = new LinkedHashMap<>(v); return this; }

    public LoraConfigBuilder layersToTransform(List<Integer> v) { layersToTransform = new ArrayList<>(v); return this; }

    public LoraConfigBuilder layersPattern(List<String> v) { layersPattern = new ArrayList<>(v); return this; }

    public LoraConfigBuilder bias(LoraBias v) { bias = v; return this; }

    public LoraConfigBuilder init(LoraInit v) { init = v; return this; }

    public LoraConfigBuilder fanInFanOut(boolean v) { fanInFanOut = v; return this; }

    public LoraConfigBuilder useDora(boolean v) { useDora = v; return this; }

    public LoraConfig build() {
        return new LoraConfig(r, alpha, dropout, targets, targetRegex, modulesToSave, allLinear, exclude, excludeRegex,
                rsLora, rankPattern, alphaPattern, layersToTransform, layersPattern, bias, init, fanInFanOut, useDora);
    }
}
